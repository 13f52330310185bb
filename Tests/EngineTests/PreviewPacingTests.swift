import Engine
import Testing

/// When the studio draws its preview again, without the engine.
@Suite struct PreviewPacingTests {
    @Test func askedAtOnceAutomaticOnlyWhileTraining() {
        var pacing = PreviewPacing()
        #expect(pacing.isDue(now: 0, training: false), "the first preview is asked for")
        pacing.begin()
        pacing.finished(took: 0.1, now: 10)
        // 19 × 0.1 s is under the 3 s floor; later 19 × 1 s.
        #expect(!pacing.isDue(now: 12.9, training: true) && pacing.isDue(now: 13, training: true))
        #expect(!pacing.isDue(now: 100, training: false), "paused, nothing is automatic")
        pacing.begin()
        pacing.finished(took: 1, now: 20)
        #expect(!pacing.automaticDue(now: 38.9) && pacing.automaticDue(now: 39))
        pacing.ask()
        #expect(pacing.isDue(now: 21, training: false))
        pacing.begin()
        pacing.delayAutomatic(by: 2, now: 50)
        #expect(!pacing.isDue(now: 51.9, training: true) && pacing.isDue(now: 52, training: true))
    }
}
