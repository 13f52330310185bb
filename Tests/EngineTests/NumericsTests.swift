import Engine
import Foundation
import Testing

@Suite struct MatrixAndBLASTests {
    /// The vector kernel against sgemm for the layers' three products (x·Wᵀ from packed Wᵀ, dyᵀ·x,
    /// dy·W), with and without C added and a bias: row counts that end in every block size, one and
    /// two 32-column panels.
    @Test(arguments: [(1, 32, 5), (13, 64, 7), (29, 32, 40), (8, 96, 1)])
    func vectorGemmMatchesSgemm(m: Int, n: Int, k: Int) {
        var rng = RandomSource(seed: 61)
        let a = randomMatrix(m, k, &rng)
        let at = a.transposed()
        let b = randomMatrix(k, n, &rng)
        let start = randomMatrix(m, n, &rng)
        let bias = randomMatrix(1, n, &rng).storage
        for accumulate in [false, true] {
            var expected = accumulate ? start : Matrix(rows: m, cols: n)
            BLAS.gemm(a, b, into: &expected, beta: accumulate ? 1 : 0)
            let withBias = (0..<(m * n)).map { expected.storage[$0] + bias[$0 % n] }
            for (source, rowStride, columnStride) in [(a, k, 1), (at, 1, m)] {
                var plain = accumulate ? start.storage : [Float](repeating: 7, count: m * n)
                var biased = plain
                source.storage.withUnsafeBufferPointer { pa in
                    b.storage.withUnsafeBufferPointer { pb in
                        guard let pa = pa.baseAddress, let pb = pb.baseAddress else { return }
                        let operand = VectorGemm.Strided(
                            pa, rowStride: rowStride, columnStride: columnStride)
                        VectorGemm.multiply(
                            m: m, n: n, k: k, a: operand, b: pb, ldb: n, c: &plain, ldc: n,
                            accumulate: accumulate)
                        VectorGemm.multiply(
                            m: m, n: n, k: k, a: operand, b: pb, ldb: n, c: &biased, ldc: n,
                            accumulate: accumulate, bias: bias)
                    }
                }
                // Sums of up to 40 products in another order: float32 round-off only.
                #expect(zip(plain, expected.storage).allSatisfy { abs($0 - $1) < 1e-4 })
                #expect(zip(biased, withBias).allSatisfy { abs($0 - $1) < 1e-4 })
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
