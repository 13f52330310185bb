import ArgumentParser
import Engine
import Foundation

/// Parses --aug-dim, explaining what is accepted.
func parseAugmentedDimension(_ text: String) throws -> AugmentedDimension {
    guard let d = AugmentedDimension(parsing: text) else {
        throw ValidationError("D must be \(AugmentedDimension.accepted)")
    }
    return d
}

/// Parses a comma-separated list of D (sample's --aug-dims), each once.
func parseAugmentedDimensions(_ text: String) throws -> [AugmentedDimension] {
    let ds = try text.split(separator: ",", omittingEmptySubsequences: false).map {
        try parseAugmentedDimension(String($0))
    }
    guard Set(ds).count == ds.count else { throw ValidationError("a D is listed twice") }
    return ds
}

/// Parses train's --aug-dim: one D, or a range LO..HI[,inf] for one network over it.
func parseTrainedDimensions(_ text: String) throws -> TrainedDimensions {
    guard let d = TrainedDimensions(parsing: text) else {
        throw ValidationError(
            """
            D must be \(AugmentedDimension.accepted), or a range LO..HI[,inf] with 0.1 ≤ LO < HI \
            (e.g. 1..4096,inf)
            """
        )
    }
    return d
}

extension Solver: ExpressibleByArgument {}
