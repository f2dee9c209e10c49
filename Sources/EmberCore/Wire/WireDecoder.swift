import Foundation

/// Decodes JSON request bodies, turning decoding failures into messages that name the offending field.
public enum WireDecoder {
    /// Decodes `T` from `data`, or throws a `WireError` such as `mcu.cores must be an integer`.
    public static func decode<T: Decodable>(_ type: T.Type, from data: Data) throws(WireError) -> T {
        guard !data.isEmpty else { throw WireError("Request body is required and must be a JSON object") }
        do {
            return try JSONDecoder().decode(T.self, from: data)
        } catch let error as DecodingError {
            throw message(for: error)
        } catch {
            throw WireError("Request body must be a JSON object")
        }
    }

    static func message(for error: DecodingError) -> WireError {
        switch error {
        case .typeMismatch(let type, let context):
            guard !context.codingPath.isEmpty else { return WireError("Request body must be a JSON object") }
            return WireError("\(path(context.codingPath)) must be \(describe(type))")
        case .valueNotFound(let type, let context):
            return WireError("\(path(context.codingPath)) must be \(describe(type)), not null")
        case .keyNotFound(let key, let context):
            return .required(path(context.codingPath + [key]))
        case .dataCorrupted(let context):
            guard !context.codingPath.isEmpty else { return WireError("Request body is not valid JSON") }
            return WireError("\(path(context.codingPath)) is invalid")
        @unknown default:
            return WireError("Request body is not valid")
        }
    }

    /// `mcu.features[2]`-style path of a coding path.
    static func path(_ codingPath: [any CodingKey]) -> String {
        var text = ""
        for key in codingPath {
            if let index = key.intValue {
                text += "[\(index)]"
            } else {
                text += text.isEmpty ? key.stringValue : ".\(key.stringValue)"
            }
        }
        return text
    }

    static func describe(_ type: Any.Type) -> String {
        switch type {
        case is String.Type: "a string"
        case is Int.Type, is Int64.Type, is UInt32.Type: "an integer"
        case is Bool.Type: "a boolean"
        case is Double.Type: "a number"
        default:
            String(describing: type).hasPrefix("Array") ? "an array" : "an object"
        }
    }
}
