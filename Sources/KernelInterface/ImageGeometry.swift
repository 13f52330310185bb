// Image layers work on channels-last batches: one row per pixel, pixel p = (image·H + y)·W + x,
// C values per row.

/// The geometry of a channels-last batch of images.
public struct ImageGeometry: Sendable, Equatable {
    public let images: Int
    public let height: Int
    public let width: Int

    @inlinable
    public init(images: Int, height: Int, width: Int) {
        self.images = images
        self.height = height
        self.width = width
    }

    @inlinable public var pixelsPerImage: Int { height * width }
    @inlinable public var pixels: Int { images * height * width }
    /// Half the height and width (average pooling 2×2).
    @inlinable
    public var halved: ImageGeometry {
        ImageGeometry(images: images, height: height / 2, width: width / 2)
    }

    /// The zero-bordered frame the direct convolutions read: one zero pixel around each image.
    @inlinable
    public var framed: (height: Int, width: Int, count: Int) {
        (height + 2, width + 2, images * (height + 2) * (width + 2))
    }

    /// Where pixel q of an image sits in its framed copy, counted in pixels.
    @inlinable
    public func framedPixel(image: Int, pixel q: Int) -> Int {
        (image * (height + 2) + q / width + 1) * (width + 2) + q % width + 1
    }
}

/// A matrix read element by element: A(i, k) = base[i·rowStride + k·columnStride].
public struct StridedMatrix {
    public let base: UnsafePointer<Float>, rowStride: Int, columnStride: Int

    @inlinable
    public init(_ base: UnsafePointer<Float>, rowStride: Int, columnStride: Int) {
        self.base = base
        self.rowStride = rowStride
        self.columnStride = columnStride
    }
}

/// Where a product writes C(i, j): c[i·ldc + j], or c[j·ldc + i] when `transposed` (the product
/// then computes Cᵀ's rows as its columns).
public struct ProductOutput {
    public let base: UnsafeMutablePointer<Float>, ldc: Int, transposed: Bool

    @inlinable
    public init(_ base: UnsafeMutablePointer<Float>, ldc: Int, transposed: Bool = false) {
        self.base = base
        self.ldc = ldc
        self.transposed = transposed
    }
}
