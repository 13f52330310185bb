import Foundation

/// One JSON object whose fields keep their order; `fields` hold values already encoded.
func jsonObject(_ fields: [(String, String)]) -> String {
    "{" + fields.map { "\(jsonString($0.0)): \($0.1)" }.joined(separator: ", ") + "}"
}

/// A number as JSON: whole numbers as integers, NaN and infinities as null (JSON has neither).
func jsonNumber(_ v: Double) -> String { encoded(v.isFinite ? v : nil) }

/// A string as JSON, with quotes, backslashes, newlines and control characters escaped.
func jsonString(_ s: String) -> String { encoded(s) }

private func encoded<T: Encodable>(_ value: T) -> String {
    let encoder = JSONEncoder()
    encoder.outputFormatting = .withoutEscapingSlashes
    return (try? encoder.encode(value)).map { String(decoding: $0, as: UTF8.self) } ?? "null"
}
