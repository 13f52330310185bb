import Engine
import Testing

@Suite struct ScratchTests {
    /// A slot that grows keeps what it held; one asked for less keeps its buffer.
    @Test func growingKeepsTheValues() {
        var slot = Scratch()
        let small = slot.pointer(4)
        for i in 0..<4 { small[i] = Float(i) + 0.5 }
        let large = slot.pointer(1000)
        #expect((0..<4).map { large[$0] } == [0.5, 1.5, 2.5, 3.5])
        #expect(slot.pointer(10) == large && slot.storage.count == 1000)
    }
}
