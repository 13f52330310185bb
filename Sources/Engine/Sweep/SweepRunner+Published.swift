import Foundation

/// A published sweep keeps sweep.json and results.csv, not its models or evaluations: it resumes
/// from its results. What results.csv holds for this plan is written back as evaluations, and a
/// model whose evaluations are all on disk is neither trained nor loaded.
extension SweepRunner {
    /// Writes each of results.csv's evaluations of this plan that is not on disk; returns how many.
    @discardableResult
    func restoreEvaluations() throws(StorageError) -> Int {
        let csv = directory + "/results.csv"
        guard FileManager.default.fileExists(atPath: csv) else { return 0 }
        let text = String(decoding: try AtomicFile.read(csv), as: UTF8.self)
        var restored = 0
        for line in text.split(separator: "\n").dropFirst() {
            guard let result = Self.result(csvLine: line), planned(result) else { continue }
            let path = evaluationPath(result.augDim, seed: result.seed, result.point)
            guard !FileManager.default.fileExists(atPath: path) else { continue }
            try Self.write(result, to: path)
            restored += 1
        }
        return restored
    }

    /// Whether every evaluation of the model at D is on disk.
    func evaluated(_ d: String, seed: Int) -> Bool {
        plan.points.allSatisfy {
            FileManager.default.fileExists(atPath: evaluationPath(d, seed: seed, $0))
        }
    }

    /// One row of results.csv (data,aug_dim,seed,alpha,bits,nfe,metric,value,seconds; the data's
    /// name may hold commas, so the fields are taken from the right).
    static func result(csvLine line: Substring) -> SweepResult? {
        let fields = line.split(separator: ",", omittingEmptySubsequences: false).suffix(8)
            .map(String.init)
        guard fields.count == 8, let seed = Int(fields[1]), let alpha = Double(fields[2]),
            let bits = Int(fields[3]), let nfe = Int(fields[4]), let seconds = Double(fields[7])
        else { return nil }
        let value = Double(fields[6]).flatMap { $0.isFinite ? $0 : nil }
        return SweepResult(
            augDim: fields[0], seed: seed, alpha: alpha, bits: bits, nfe: nfe, metric: fields[5],
            value: value, seconds: seconds)
    }

    private func planned(_ r: SweepResult) -> Bool {
        plan.augDims.contains(r.augDim) && (0..<plan.seeds).contains(r.seed)
            && r.metric == metricName && plan.points.contains(r.point)
    }
}

extension SweepResult {
    /// The grid point it was measured at.
    var point: SweepPoint { SweepPoint(alpha: alpha, bits: bits, nfe: nfe) }
}
