import Engine
import Foundation
import Testing

@Suite struct SafeTensorsTests {
    let sample = SafeTensors.File(
        tensors: [
            NamedTensor(name: "a.weight", shape: [2, 3], values: [1, 2, 3, 4, 5, 6]),
            NamedTensor(name: "a.bias", shape: [3], values: [-1, 0.5, .pi]),
        ],
        metadata: ["aug_dim": "128"])

    @Test func roundTrip() throws {
        let path = temporaryDirectory() + "/model.safetensors"
        try SafeTensors.write(sample, to: path)
        let back = try SafeTensors.read(path)
        #expect(back.metadata == ["aug_dim": "128"])
        #expect(back.tensor(named: "a.weight") == sample.tensors[0])
        #expect(back.tensor(named: "a.bias") == sample.tensors[1])
        let leftovers = try FileManager.default.contentsOfDirectory(
            atPath: (path as NSString).deletingLastPathComponent)
        #expect(leftovers == ["model.safetensors"])
    }

    @Test func readsAFileMadeByAnotherWriter() throws {
        let file = try SafeTensors.read(fixturesDirectory + "/handmade.safetensors")
        #expect(file.metadata == ["format": "pt"])
        #expect(file.tensor(named: "bias")?.values == [0.25, -1.5])
        #expect(
            file.tensor(named: "weight")?.values
                == [-2.5, -1.5, -0.5, 0.5, 1.5, 2.5].map { Float($0 / 4) })
        #expect(file.tensor(named: "weight")?.shape == [2, 3])
    }

    func encoded() throws -> [UInt8] { try SafeTensors.encode(sample) }

    /// Rebuilds a file around a hand-written header and `dataBytes` bytes of data.
    func withHeader(_ json: String, dataBytes: Int) -> [UInt8] {
        var out: [UInt8] = []
        let h = Array(json.utf8)
        for i in 0..<8 { out.append(UInt8(truncatingIfNeeded: h.count >> (8 * i))) }
        return out + h + [UInt8](repeating: 0, count: dataBytes)
    }

    func rejection(_ bytes: [UInt8]) -> String? {
        do {
            _ = try SafeTensors.decode(bytes, path: "bad.safetensors")
            return nil
        } catch {
            return error.description
        }
    }

    @Test func rejectsTruncatedFiles() throws {
        let full = try encoded()
        for cut in [0, 4, 8, 20, full.count - 1] {
            let message = try #require(
                rejection(Array(full[0..<cut])), "cut at \(cut) was accepted")
            #expect(message.hasPrefix("bad.safetensors: "))
        }
    }

    @Test func rejectsHeaderLengthPastTheEnd() throws {
        var bytes = try encoded()
        bytes[0] = 0xFF
        bytes[1] = 0xFF
        bytes[7] = 0x7F
        #expect(rejection(bytes)?.contains("past the end") == true)
    }

    @Test func rejectsOverlappingAndOverrunningOffsets() {
        let overlap =
            #"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"#
            + #""b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}"#
        #expect(rejection(withHeader(overlap, dataBytes: 12))?.contains("overlaps") == true)
        let overrun = #"{"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}}"#
        #expect(
            rejection(withHeader(overrun, dataBytes: 8))?.contains("past the data section") == true)
        let negative = #"{"a":{"dtype":"F32","shape":[1],"data_offsets":[8,4]}}"#
        #expect(
            rejection(withHeader(negative, dataBytes: 8))?.contains("invalid data_offsets") == true)
    }

    @Test func rejectsUnknownAndUnreadableDtypes() {
        let unknown = #"{"a":{"dtype":"Q7","shape":[1],"data_offsets":[0,4]}}"#
        #expect(
            rejection(withHeader(unknown, dataBytes: 4))?.contains("unknown dtype 'Q7'") == true)
        let half = #"{"a":{"dtype":"F16","shape":[2],"data_offsets":[0,4]}}"#
        #expect(rejection(withHeader(half, dataBytes: 4))?.contains("only F32 and F64") == true)
    }

    @Test func rejectsShapeThatDoesNotMatchTheBytes() {
        let wrong = #"{"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}"#
        #expect(rejection(withHeader(wrong, dataBytes: 8))?.contains("needs 12 bytes") == true)
        let huge = #"{"a":{"dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,8]}}"#
        #expect(rejection(withHeader(huge, dataBytes: 8))?.contains("larger than the file") == true)
        #expect(rejection(withHeader("[1,2]", dataBytes: 0))?.contains("not a JSON object") == true)
        #expect(
            rejection(withHeader(#"{"a":{"dtype":"F32"}}"#, dataBytes: 0))?.contains("needs dtype")
                == true)
    }

    @Test func missingFileIsAClearError() {
        #expect(throws: StorageError.self) {
            try SafeTensors.read("/nonexistent/model.safetensors")
        }
        do { _ = try SafeTensors.read("/nonexistent/model.safetensors") } catch {
            #expect(error.description.hasPrefix("/nonexistent/model.safetensors: cannot open"))
        }
    }
}

@Suite struct NPYTests {
    let expected = (0..<12).map { Float(Double($0) / 7) }

    @Test func readsNumPyFilesVersionOneAndTwo() throws {
        let f4 = try NPY.read(fixturesDirectory + "/numpy_f4_v1.npy")
        #expect(f4.shape == [4, 3] && f4.values == expected)
        let f8 = try NPY.read(fixturesDirectory + "/numpy_f8_v2.npy")
        #expect(f8.shape == [4, 3] && f8.values == expected)
        let oneD = try NPY.read(fixturesDirectory + "/numpy_f4_1d.npy")
        #expect(oneD.shape == [5] && oneD.matrix().shape == [5, 1])
        #expect(throws: StorageError.self) {
            try NPY.readMatrix(fixturesDirectory + "/numpy_f4_1d.npy")
        }
    }

    @Test func roundTripKeepsShapeAndValuesAndAlignsTheHeader() throws {
        let path = temporaryDirectory() + "/x.npy"
        let m = Matrix(rows: 3, cols: 2, storage: [1, -2, 3.5, .infinity, 0, -0.25])
        try NPY.write(m, to: path)
        let bytes = try AtomicFile.read(path)
        #expect((10 + Int(bytes[8]) + Int(bytes[9]) * 256) % 64 == 0)
        #expect(try NPY.readMatrix(path) == m)
    }

    @Test func numpyReadsWhatWeWriteAndWeReadWhatItWrites() throws {
        // Cross-checks with the real NumPy where python3 has it; the committed fixtures cover
        // machines without it.
        guard let python = pythonWithNumPy() else { return }
        let dir = temporaryDirectory()
        try NPY.write(
            Matrix(rows: 2, cols: 3, storage: [0, 0.5, 1, 1.5, 2, 2.5]), to: dir + "/ours.npy")
        let script = """
            import numpy as np
            a = np.load('\(dir)/ours.npy'); assert a.dtype == np.float32 and a.shape == (2, 3), a
            assert (a == np.arange(6).reshape(2, 3) * 0.5).all(), a
            np.save('\(dir)/theirs.npy', (np.arange(8, dtype=np.float64).reshape(4, 2) - 3) / 8)
            """
        #expect(run(python, ["-c", script]) == 0)
        let theirs = try NPY.read(dir + "/theirs.npy")
        #expect(
            theirs.shape == [4, 2] && theirs.values == (0..<8).map { Float((Double($0) - 3) / 8) })
    }

    func rejection(_ bytes: [UInt8]) -> String? {
        do {
            _ = try NPY.decode(bytes, path: "bad.npy")
            return nil
        } catch {
            return error.description
        }
    }

    func file(header: String, dataBytes: Int) -> [UInt8] {
        let h = Array(header.utf8)
        return [0x93] + Array("NUMPY".utf8) + [1, 0, UInt8(h.count & 0xFF), UInt8(h.count >> 8)] + h
            + [UInt8](repeating: 0, count: dataBytes)
    }

    @Test func rejectsCorruptFiles() throws {
        let good = try NPY.encode(NPY.Array(shape: [2, 2], values: [1, 2, 3, 4]))
        for cut in [0, 5, 9, 30, good.count - 1] {
            #expect(rejection(Array(good[0..<cut])) != nil, "cut at \(cut) was accepted")
        }
        #expect(rejection(Array("not numpy at all".utf8))?.contains("bad magic") == true)
        var version = good
        version[6] = 9
        #expect(rejection(version)?.contains("version 9") == true)
        #expect(
            rejection(
                file(
                    header: "{'descr': '>f4', 'fortran_order': False, 'shape': (1,), }",
                    dataBytes: 4))?.contains("big-endian") == true)
        #expect(
            rejection(
                file(
                    header: "{'descr': '<i8', 'fortran_order': False, 'shape': (1,), }",
                    dataBytes: 8))?.contains("'<i8' is not supported") == true)
        #expect(
            rejection(
                file(
                    header: "{'descr': '<f4', 'fortran_order': False, 'shape': (3, 2), }",
                    dataBytes: 20))?.contains("needs 24 data bytes") == true)
        #expect(
            rejection(
                file(
                    header: "{'descr': '<f4', 'fortran_order': True, 'shape': (2, 2), }",
                    dataBytes: 16))?.contains("Fortran") == true)
        #expect(
            rejection(
                file(
                    header:
                        """
                        {'descr': '<f4', 'fortran_order': False, 'shape': (99999999999, \
                        99999999999), }
                        """,
                    dataBytes: 4))?.contains("holds more than") == true)
        #expect(
            rejection(file(header: "{'descr': '<f4', 'shape': (1,), }", dataBytes: 4))?.contains(
                "fortran_order") == true)
        #expect(
            rejection(
                file(header: "{'descr': '<f4', 'fortran_order': False, 'shape': (1,", dataBytes: 4))
                != nil)
    }

    @Test func failedWriteLeavesNoFileBehind() {
        let dir = temporaryDirectory()
        #expect(throws: StorageError.self) {
            try NPY.write(NPY.Array(shape: [3], values: [1]), to: dir + "/x.npy")
        }
        #expect(throws: StorageError.self) {
            try NPY.write(NPY.Array(shape: [1], values: [1]), to: dir + "/missing-folder/x.npy")
        }
        #expect((try? FileManager.default.contentsOfDirectory(atPath: dir)) == [])
    }
}

func pythonWithNumPy() -> String? {
    for candidate in ["/usr/bin/python3", "/usr/local/bin/python3", "/root/.pyenv/shims/python3"]
    where FileManager.default.isExecutableFile(atPath: candidate) {
        if run(candidate, ["-c", "import numpy"]) == 0 { return candidate }
    }
    return nil
}

@discardableResult
func run(_ executable: String, _ arguments: [String]) -> Int32 {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    process.standardOutput = FileHandle.nullDevice
    process.standardError = FileHandle.nullDevice
    do { try process.run() } catch { return -1 }
    process.waitUntilExit()
    return process.terminationStatus
}
