import Engine
import Testing

/// The image metrics' background batches without the engine.
@Suite struct ImageBatchQueueTests {
    func request(_ model: NetworkDenoiser) -> SamplingRequest {
        SamplingRequest(
            denoiser: model, augmentedDimension: .infinite,
            sampler: Sampler(schedule: NoiseSchedule(steps: 2)), bits: 6)
    }

    @Test func chunksMakeOneBatchFromWeightsFrozenWhenItBegan() {
        let net = MLPEDM(config: MLPEDMConfig(dim: 4, width: 8, depth: 1), seed: 2)
        let model = NetworkDenoiser(network: net, sigmaData: 0.5)
        let settings = StudioSettings(augmentedDimension: .infinite)
        var queue = ImageBatchQueue()
        #expect(!queue.isDue(now: 0))
        queue.begin(request(model), source: "m", kind: .model, step: 5, settings: settings, now: 1)
        #expect(queue.isDue(now: 1) && queue.rows == 0)
        // Training moves the weights after the batch began: the batch does not see it.
        let before = net.parameters.values.array
        for i in 0..<net.parameters.values.count { net.parameters.values[i] += 1 }
        var clock = 10.0
        func tick() -> Double {
            clock += 1
            return clock
        }
        var whole: ImageBatch?
        var chunks = 0
        while whole == nil && chunks < 100 {
            whole = queue.sampleChunk(now: tick, paced: true, shouldStop: { false })
            chunks += 1
        }
        #expect(chunks == ImageBatchQueue.count / ImageBatchQueue.chunk)
        #expect(whole?.rows == ImageBatchQueue.count && queue.rows == nil)
        // The first chunk is what the frozen, 6-bit network draws from the batch's stream.
        let frozen = NetworkDenoiser(
            network: MLPEDM(config: net.config, seed: 2), sigmaData: 0.5)
        for i in 0..<before.count { frozen.network.parameters.values[i] = before[i] }
        var rng = RandomSource(seed: settings.seed, stream: 0x1FD)
        let first = request(frozen).sample(count: ImageBatchQueue.chunk, rng: &rng)
        #expect(Array(whole?.samples.prefix(first.storage.count) ?? []) == first.storage)
    }

    /// A stop cuts the chunk short and leaves the batch as it was; pacing spaces the chunks.
    @Test func stopsAndPacing() {
        let net = MLPEDM(config: MLPEDMConfig(dim: 4, width: 8, depth: 1), seed: 2)
        let settings = StudioSettings(augmentedDimension: .infinite)
        var queue = ImageBatchQueue()
        queue.begin(
            request(NetworkDenoiser(network: net, sigmaData: 0.5)), source: "m", kind: .model,
            step: 1, settings: settings, now: 0)
        #expect(
            queue.sampleChunk(now: { 0 }, paced: true, shouldStop: { true }) == nil
                && queue.rows == 0)
        var times = [2.0, 3.0]
        _ = queue.sampleChunk(now: { times.removeFirst() }, paced: true, shouldStop: { false })
        #expect(queue.rows == ImageBatchQueue.chunk)
        #expect(!queue.isDue(now: 3 + 48) && queue.isDue(now: 3 + ImageBatchQueue.pace))
        // The same settings and source keep the batch; another source starts a new one.
        queue.begin(
            request(NetworkDenoiser(network: net, sigmaData: 0.5)), source: "m", kind: .model,
            step: 1, settings: settings, now: 60)
        #expect(queue.rows == ImageBatchQueue.chunk)
        queue.begin(
            request(NetworkDenoiser(network: net, sigmaData: 0.5)), source: "o", kind: .oracle,
            step: 0, settings: settings, now: 60)
        #expect(queue.rows == 0)
    }
}
