import Engine
import Foundation

/// A one-line failure: ArgumentParser prints "Error: <message>" and exits non-zero.
struct Failure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// Converts the engine's typed errors into one-line failures.
func attempt<T>(_ body: () throws -> T) throws -> T {
    do { return try body() } catch let e as StorageError { throw Failure(e.description) } catch let
        e as DataError
    {
        throw Failure(e.description)
    }
}

func note(_ text: String) {
    writeStandardError(text + "\n")
}

/// Writes to stderr, or drops the text when stderr is gone (a terminal that hung up, a closed
/// pipe): a lost message must not stop the work, nor lose what it saved.
func writeStandardError(_ text: String) {
    try? FileHandle.standardError.write(contentsOf: Data(text.utf8))
}
