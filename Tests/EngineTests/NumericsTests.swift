import Engine
import Foundation
import TestSupport
import Testing

@Suite struct MatrixAndBLASTests {
    /// The vector kernel against a float64 product for the layers' products: A read along or
    /// down its rows, B along or across (Wᵀ read from W), C written or transposed, with and without
    /// C added and a bias. The shapes reach every path: one block of rows read in place, groups of
    /// blocks over packed panels, k in several chunks, and n that is not a multiple of 32 (C
    /// transposed).
    @Test(arguments: [
        (1, 32, 5), (13, 64, 7), (29, 32, 40), (8, 96, 1), (200, 64, 300), (7, 32, 0),
    ])
    func vectorGemmMatchesTheProduct(m: Int, n: Int, k: Int) {
        var rng = RandomSource(seed: 61)
        let a = randomMatrix(m, k, &rng)
        let b = randomMatrix(k, n, &rng)
        let start = randomMatrix(m, n, &rng)
        let bias = randomMatrix(1, n, &rng).storage
        let exact = exactProduct(a, b)
        let magnitude = exact.map(abs).max() ?? 1
        // Sums of k products in another order: terms·ε·magnitude, with room for the bias and C.
        let tolerance = Tolerance.reordered(terms: k + 2, magnitude: max(magnitude, 1) * 4)
        for (accumulate, withBias, transposedB) in cases {
            let expected = (0..<(m * n)).map { e in
                exact[e] + (accumulate ? Double(start.storage[e]) : 0)
                    + (withBias ? Double(bias[e % n]) : 0)
            }
            for transposedA in [false, true] {
                var c = accumulate ? start.storage : [Float](repeating: 7, count: m * n)
                withOperands(a, b, transposedA: transposedA, transposedB: transposedB) { pa, pb in
                    bias.withUnsafeBufferPointer { pbias in
                        VectorGemm.multiply(
                            m: m, n: n, k: k, a: pa, b: pb, c: &c, ldc: n, accumulate: accumulate,
                            bias: withBias ? pbias.baseAddress : nil)
                    }
                }
                let close = Closeness(c, expected, within: tolerance)
                #expect(close.holds, "A transposed \(transposedA), B \(transposedB): \(close)")
            }
        }
    }

    /// Cᵀ written for any n (the forward product yᵀ = W·xᵀ over a batch of rows).
    @Test(arguments: [(40, 33, 20), (5, 70, 9), (130, 64, 129)])
    func vectorGemmWritesTheProductTransposed(m: Int, n: Int, k: Int) {
        var rng = RandomSource(seed: 62)
        let a = randomMatrix(m, k, &rng)
        let b = randomMatrix(k, n, &rng)
        let start = randomMatrix(n, m, &rng)
        let exact = exactProduct(a, b)
        let tolerance = Tolerance.reordered(
            terms: k + 1, magnitude: max(exact.map(abs).max() ?? 1, 1) * 4)
        for accumulate in [false, true] {
            var ct = accumulate ? start.storage : [Float](repeating: 7, count: m * n)
            withOperands(a, b, transposedA: false, transposedB: true) { pa, pb in
                VectorGemm.multiplyTransposed(
                    m: m, n: n, k: k, a: pa, b: pb, cTransposed: &ct, ldc: m,
                    accumulate: accumulate)
            }
            let expected = (0..<(m * n)).map { e in
                let (j, i) = (e / m, e % m)
                return exact[i * n + j] + (accumulate ? Double(start.storage[e]) : 0)
            }
            let close = Closeness(ct, expected, within: tolerance)
            #expect(close.holds, "accumulate \(accumulate): \(close)")
        }
    }

    let cases = [false, true].flatMap { accumulate in
        [(accumulate, false, false), (accumulate, true, false), (accumulate, true, true)]
    }

    /// A·B in float64.
    func exactProduct(_ a: Matrix, _ b: Matrix) -> [Double] {
        var c = [Double](repeating: 0, count: a.rows * b.cols)
        for i in 0..<a.rows {
            for kk in 0..<a.cols {
                let v = Double(a[i, kk])
                for j in 0..<b.cols { c[i * b.cols + j] += v * Double(b[kk, j]) }
            }
        }
        return c
    }

    /// A and B as the kernel reads them: A(i, k) from A or from a stored Aᵀ, B(k, j) from B or
    /// from a stored Bᵀ (the layers' W).
    func withOperands(
        _ a: Matrix, _ b: Matrix, transposedA: Bool, transposedB: Bool,
        _ body: (VectorGemm.Strided, VectorGemm.Strided) -> Void
    ) {
        let storedA = transposedA ? a.transposed() : a
        let storedB = transposedB ? b.transposed() : b
        storedA.storage.withUnsafeBufferPointer { sa in
            storedB.storage.withUnsafeBufferPointer { sb in
                // An empty matrix still needs an address.
                let pa = sa.baseAddress ?? UnsafePointer(bitPattern: 64)
                let pb = sb.baseAddress ?? UnsafePointer(bitPattern: 64)
                guard let pa, let pb else { return }
                body(
                    VectorGemm.Strided(
                        pa, rowStride: transposedA ? 1 : a.cols,
                        columnStride: transposedA ? a.rows : 1),
                    VectorGemm.Strided(
                        pb, rowStride: transposedB ? 1 : b.cols,
                        columnStride: transposedB ? b.rows : 1))
            }
        }
    }

    func naiveProduct(_ a: Matrix, _ b: Matrix) -> Matrix {
        var c = Matrix(rows: a.rows, cols: b.cols)
        for i in 0..<a.rows {
            for j in 0..<b.cols {
                var s: Float = 0
                for k in 0..<a.cols { s += a[i, k] * b[k, j] }
                c[i, j] = s
            }
        }
        return c
    }

    @Test(arguments: [(false, false), (true, false), (false, true), (true, true)])
    func gemmMatchesNaiveProductForEveryTransposeCombination(transposeA: Bool, transposeB: Bool) {
        var rng = RandomSource(seed: 7)
        let a = randomMatrix(5, 7, &rng)
        let b = randomMatrix(7, 3, &rng)
        let expected = naiveProduct(a, b)
        let opA = transposeA ? a.transposed() : a
        let opB = transposeB ? b.transposed() : b
        var c = Matrix(rows: 5, cols: 3)
        BLAS.gemm(opA, transposeA: transposeA, opB, transposeB: transposeB, into: &c)
        for i in 0..<c.count { #expect(abs(c.storage[i] - expected.storage[i]) < 1e-4) }
    }

    @Test func gemmAccumulatesWithBeta() {
        var rng = RandomSource(seed: 8)
        let a = randomMatrix(4, 4, &rng)
        let b = randomMatrix(4, 4, &rng)
        var c = Matrix(rows: 4, cols: 4, repeating: 1)
        BLAS.gemm(a, b, into: &c, alpha: 2, beta: 3)
        let ab = naiveProduct(a, b)
        for i in 0..<c.count { #expect(abs(c.storage[i] - (2 * ab.storage[i] + 3)) < 1e-4) }
    }

    @Test func symmetricEigenRecoversADiagonalisation() throws {
        var s = Matrix(rows: 2, cols: 2)
        s[0, 0] = 2
        s[0, 1] = 1
        s[1, 0] = 1
        s[1, 1] = 2
        let (values, vectors) = try #require(BLAS.symmetricEigen(s))
        #expect(abs(values[0] - 1) < 1e-5 && abs(values[1] - 3) < 1e-5)
        #expect(abs(abs(vectors[0, 1]) - Float(0.5).squareRoot()) < 1e-5)
    }

    @Test func threadCountIsSettable() {
        let previous = BLAS.threads
        BLAS.setThreads(1)
        #expect(BLAS.threads == 1)
        BLAS.setThreads(previous)
    }

    @Test func fusedKernels() {
        var z: [Float] = [-3, -0.5, 0, 0.5, 3]
        var out = [Float](repeating: 0, count: 5)
        Kernels.silu(&z, &out, count: 5)
        for i in 0..<5 { #expect(abs(out[i] - z[i] / (1 + exp(-z[i]))) < 1e-6) }
        let x: [Float] = [1, 2, 3, 4, 5, 6]
        var sums = [Float](repeating: 9, count: 3)
        Kernels.columnSums(x, rows: 2, cols: 3, into: &sums)
        #expect(sums == [5, 7, 9])
        var y = [Float](repeating: 1, count: 6)
        Kernels.broadcastRows([1, 2, 3], &y, rows: 2, cols: 3, accumulate: true)
        #expect(y == [2, 3, 4, 2, 3, 4])
    }

    @Test func reshapeKeepsStorageWhenCountIsUnchanged() {
        var m = Matrix(rows: 2, cols: 3, storage: [1, 2, 3, 4, 5, 6])
        m.reshape(rows: 3, cols: 2)
        #expect(m[2, 1] == 6)
        #expect(m.transposed().shape == [2, 3])
    }
}
