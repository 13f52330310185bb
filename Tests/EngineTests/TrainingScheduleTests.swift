import Engine
import Foundation
import Testing

/// EDM's EMA half-life and learning-rate ramp-up: the official recipe's figures, the trainer
/// following them, and config.json keeping them.
@Suite struct TrainingScheduleTests {
    /// 500 kimg, ramp-up 0.05, batch 512: β = 0 at the first update (the average starts at the
    /// weights), 0.5^(1/0.45) = 0.2140 at the 10th, 0.98622 at the 1000th, and 0.5^(512/500k) once
    /// the ramp is past.
    @Test func theHalfLifeGivesEDMsDecay() {
        let h = ExponentialMovingAverage.HalfLife(images: 500_000, rampup: 0.05, batch: 512)
        #expect(h.decay(update: 1) == 0)
        #expect(abs(h.decay(update: 10) - pow(0.5, 1 / 0.45)) < 1e-12)
        #expect(abs(h.decay(update: 1000) - 0.98622) < 5e-6)
        #expect(abs(h.decay(update: 50_000) - pow(0.5, 512 / 500_000)) < 1e-12)
        let plain = ExponentialMovingAverage.HalfLife(images: 1000, rampup: nil, batch: 100)
        #expect(abs(plain.decay(update: 1) - pow(0.5, 0.1)) < 1e-12)
    }

    /// The ramp over K kimg: rate 0 at the first step, rate·images/(K·1000) on the way, the rate
    /// after; without it, the linear warm-up as before.
    @Test func theLearningRateRampsOverImages() {
        var c = TrainingConfig(
            data: "moons", dim: 2, augmentedDimension: .infinite, sigmaData: 1, steps: 10)
        c.batch = 100
        #expect(c.learningRate(afterSteps: 0) == 1e-3 / 200)
        #expect(c.learningRate(afterSteps: 500) == 1e-3)
        c.lrRampupKimg = 10
        #expect(c.learningRate(afterSteps: 0) == 0)
        #expect(abs(c.learningRate(afterSteps: 25) - 1e-3 * 2500 / 10_000) < 1e-15)
        #expect(c.learningRate(afterSteps: 100) == 1e-3 && c.learningRate(afterSteps: 900) == 1e-3)
        c.lrRampupKimg = -1
        #expect(c.problem != nil)
    }

    /// A trainer with the half-life: after its first step the average is the weights (β = 0);
    /// config.json keeps the schedule and reads it back.
    @Test func theTrainerFollowsTheScheduleAndTheConfigKeepsIt() throws {
        var c = TrainingConfig(
            data: "moons", dim: 2, augmentedDimension: .infinite, sigmaData: 1, steps: 10)
        (c.width, c.depth, c.batch) = (16, 1, 32)
        TrainingSchedule(emaHalflifeKimg: 0.5, emaRampup: 0.05, lrRampupKimg: 1).apply(to: &c)
        var rng = RandomSource(seed: 2)
        let trainer = try Trainer(config: c, data: randomMatrix(200, 2, &rng))
        trainer.trainStep()
        trainer.trainStep()
        #expect(trainer.ema.average.values.array != trainer.network.parameters.values.array)
        // With the warm-up's rate (not 0 at the first step) the weights move, and β = 0 makes the
        // average exactly them; the default EMA (β = 2/11) would not.
        var moving = c
        moving.lrRampupKimg = nil
        let initial = try Trainer(config: moving, data: randomMatrix(200, 2, &rng))
        let before = initial.network.parameters.values.array
        initial.trainStep()
        #expect(initial.network.parameters.values.array != before)
        #expect(initial.ema.average.values.array == initial.network.parameters.values.array)
        let run = RunDirectory(temporaryDirectory() + "/run")
        try run.create()
        try run.writeConfig(c)
        let text = try String(contentsOfFile: run.configPath, encoding: .utf8)
        #expect(text.contains("\"ema_halflife_kimg\"") && text.contains("\"lr_rampup_kimg\""))
        let back = try run.readConfig()
        #expect(back.emaHalflifeKimg == 0.5 && back.emaRampup == 0.05 && back.lrRampupKimg == 1)
    }
}
