import Foundation

/// A small classifier of images trained on a labelled data set (Fashion-MNIST): the feature space
/// of the Fréchet distance `fd-fmnist`. x → Linear → SiLU → Linear → SiLU (the features) → Linear →
/// class logits.
public final class ImageClassifier {
    public static let hiddenWidth = 512, featureWidth = 256
    /// Bumped whenever the architecture or the training recipe changes, so old cache files are not
    /// reused.
    public static let version = 1

    public let inputs: Int
    public let classes: Int
    public let parameters: ParameterStore
    let layer1: Linear, layer2: Linear, head: Linear
    private var ws = Workspace()

    private struct Workspace {
        var x = Scratch(), pre1 = Scratch(), act1 = Scratch(), pre2 = Scratch(), act2 = Scratch(),
            logits = Scratch()
        var grad1 = Scratch(), grad2 = Scratch()
    }

    public init(inputs: Int, classes: Int, seed: UInt64) {
        precondition(inputs > 0 && classes > 1, "invalid classifier shape")
        self.inputs = inputs
        self.classes = classes
        var layout = ParameterLayout()
        var rng = RandomSource(seed: seed, stream: 0xC1A5)
        layer1 = Linear("layer1", in: inputs, out: Self.hiddenWidth, layout: &layout, rng: &rng)
        layer2 = Linear(
            "layer2", in: Self.hiddenWidth, out: Self.featureWidth, layout: &layout, rng: &rng)
        head = Linear("head", in: Self.featureWidth, out: classes, layout: &layout, rng: &rng)
        parameters = layout.makeStore()
    }

    /// Runs `rows` rows of `x` through the network, keeping every activation for `backward`.
    private func forward(_ x: UnsafePointer<Float>, rows: Int) {
        let h = Self.hiddenWidth
        let f = Self.featureWidth
        let p = parameters
        let pre1 = ws.pre1.pointer(rows * h)
        let act1 = ws.act1.pointer(rows * h)
        let pre2 = ws.pre2.pointer(rows * f)
        let act2 = ws.act2.pointer(rows * f)
        layer1.forward(x, rows: rows, into: pre1, parameters: p)
        Kernels.silu(pre1, act1, count: rows * h)
        layer2.forward(act1, rows: rows, into: pre2, parameters: p)
        Kernels.silu(pre2, act2, count: rows * f)
        head.forward(act2, rows: rows, into: ws.logits.pointer(rows * classes), parameters: p)
    }

    /// The features (the second SiLU layer) of every row, in blocks.
    public func features(_ x: Matrix) -> Matrix {
        precondition(x.cols == inputs, "classifier expects \(inputs) inputs, got \(x.cols)")
        var out = Matrix(rows: x.rows, cols: Self.featureWidth)
        eachBlock(x) { start, count in
            let f = Self.featureWidth
            out.storage.withUnsafeMutableBufferPointer { o in
                o.baseAddress.map {
                    ($0 + start * f).update(from: ws.act2.pointer(count * f), count: count * f)
                }
            }
        }
        return out
    }

    /// The most likely class of every row.
    public func predict(_ x: Matrix) -> [Int] {
        precondition(x.cols == inputs, "classifier expects \(inputs) inputs, got \(x.cols)")
        var labels: [Int] = []
        eachBlock(x) { _, count in
            let logits = ws.logits.pointer(count * classes)
            for r in 0..<count {
                let row = logits + r * classes
                labels.append((0..<classes).max { row[$0] < row[$1] } ?? 0)
            }
        }
        return labels
    }

    public func accuracy(_ x: Matrix, labels: [Int]) -> Double {
        let predicted = predict(x)
        let right = zip(predicted, labels).filter { $0 == $1 }.count
        return Double(right) / Double(max(labels.count, 1))
    }

    private func eachBlock(_ x: Matrix, _ body: (Int, Int) -> Void) {
        let block = 1000
        x.storage.withUnsafeBufferPointer { px in
            guard let base = px.baseAddress else { return }
            for start in stride(from: 0, to: x.rows, by: block) {
                let count = min(block, x.rows - start)
                forward(base + start * inputs, rows: count)
                body(start, count)
            }
        }
    }

    /// One Adam step on the mean softmax cross-entropy of a batch; returns that loss.
    func trainStep(_ x: UnsafePointer<Float>, labels: [Int], adam: Adam) -> Double {
        let rows = labels.count
        let h = Self.hiddenWidth
        let f = Self.featureWidth
        let p = parameters
        forward(x, rows: rows)
        let logits = ws.logits.pointer(rows * classes)
        var loss = 0.0
        for r in 0..<rows {
            loss += softmaxGradient(logits + r * classes, label: labels[r], scale: 1 / Float(rows))
        }
        let grad2 = ws.grad2.pointer(rows * f)
        let grad1 = ws.grad1.pointer(rows * h)
        head.backward(
            ws.act2.pointer(rows * f), gradY: logits, rows: rows, gradX: grad2, parameters: p)
        Kernels.siluBackward(ws.pre2.pointer(rows * f), grad2, grad2, count: rows * f)
        layer2.backward(
            ws.act1.pointer(rows * h), gradY: grad2, rows: rows, gradX: grad1, parameters: p)
        Kernels.siluBackward(ws.pre1.pointer(rows * h), grad1, grad1, count: rows * h)
        layer1.backward(x, gradY: grad1, rows: rows, gradX: nil, parameters: p)
        adam.update(p)
        return loss / Double(rows)
    }

    /// Replaces one row of logits by scale·(softmax − one-hot); returns the row's cross-entropy.
    private func softmaxGradient(_ row: UnsafeMutablePointer<Float>, label: Int, scale: Float)
        -> Double
    {
        var top = row[0]
        for c in 1..<classes { top = max(top, row[c]) }
        var total: Float = 0
        for c in 0..<classes {
            row[c] = expf(row[c] - top)
            total += row[c]
        }
        let loss = -log(Double(max(row[label] / total, 1e-30)))
        for c in 0..<classes { row[c] = scale * (row[c] / total - (c == label ? 1 : 0)) }
        return loss
    }

    /// Trains on `images`/`labels` for `epochs` passes in a seeded order with a cosine-decayed
    /// learning rate. `progress(epoch, epochs, loss)` after each epoch; `shouldStop` ends the
    /// training before its next batch (the network is then part-trained).
    public static func train(
        images: Matrix, labels: [Int], classes: Int, seed: UInt64, epochs: Int = 10,
        batch: Int = 128, shouldStop: () -> Bool = { false },
        progress: (Int, Int, Double) -> Void = { _, _, _ in }
    ) -> ImageClassifier {
        precondition(
            images.rows == labels.count && images.rows >= batch,
            "need at least one batch of labelled images")
        let net = ImageClassifier(inputs: images.cols, classes: classes, seed: seed)
        let adam = Adam(parameterCount: net.parameters.count, learningRate: 1e-3)
        var rng = RandomSource(seed: seed, stream: 0xBA7C)
        let perEpoch = images.rows / batch
        let total = perEpoch * epochs
        let n = images.cols
        var x = [Float](repeating: 0, count: batch * n)
        var y = [Int](repeating: 0, count: batch)
        for epoch in 0..<epochs {
            let order = Dataset.shuffled(images.rows, &rng)
            var loss = 0.0
            for b in 0..<perEpoch {
                if shouldStop() { return net }
                let done = Double(epoch * perEpoch + b) / Double(total)
                adam.learningRate = Float(1e-3 * 0.5 * (1 + cos(Double.pi * done)))
                images.storage.withUnsafeBufferPointer { src in
                    for i in 0..<batch {
                        let r = order[b * batch + i]
                        y[i] = labels[r]
                        for c in 0..<n { x[i * n + c] = src[r * n + c] }
                    }
                }
                loss += x.withUnsafeBufferPointer { px in
                    px.baseAddress.map { net.trainStep($0, labels: y, adam: adam) } ?? 0
                }
            }
            progress(epoch + 1, epochs, loss / Double(perEpoch))
        }
        return net
    }
}
