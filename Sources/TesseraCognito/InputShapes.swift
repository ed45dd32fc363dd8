import Foundation

/// An operation's input checked against its shape in the model (contract §11.1): required
/// members present, each member of the type the model gives it, strings and lists within their
/// lengths, numbers within their ranges, enums among their values. What fails is
/// `InvalidParameterException` naming the member, as Cognito phrases it; unknown members are
/// ignored, as AWS's JSON services do.
enum InputShapes {
    indirect enum Member: Sendable {
        case string(min: Int? = nil, max: Int? = nil, oneOf: [String]? = nil)
        case integer(min: Int? = nil, max: Int? = nil)
        case boolean
        case list(of: Member, min: Int? = nil, max: Int? = nil)
        case map(values: Member)
        case structure(String)
        case any
    }

    struct Shape: Sendable {
        let members: [String: Member]
        let required: [String]
    }

    /// Checks `input` (the body's members, JSON `null` already dropped) for `operation`; an
    /// operation without a shape here passes.
    static func validate(_ operation: String, _ input: [String: Any]) throws(CognitoError) {
        guard let shape = operations[operation] else { return }
        try check(input, against: shape, at: "")
    }

    static func failure(_ path: String, _ constraint: String) -> CognitoError {
        .invalidParameter("1 validation error detected: Value at '\(path)' failed to satisfy constraint: \(constraint)")
    }

    static func check(_ value: Any, against member: Member, at path: String) throws(CognitoError) {
        switch member {
        case .any:
            return
        case .boolean:
            guard value is Bool else { throw failure(path, "Member must be a boolean") }
        case .string(let min, let max, let oneOf):
            guard let text = value as? String else { throw failure(path, "Member must be a string") }
            if let min, text.count < min { throw failure(path, "Member must have length greater than or equal to \(min)") }
            if let max, text.count > max { throw failure(path, "Member must have length less than or equal to \(max)") }
            if let oneOf, !oneOf.contains(text) {
                throw failure(path, "Member must satisfy enum value set: [\(oneOf.joined(separator: ", "))]")
            }
        case .integer(let min, let max):
            guard let number = value as? NSNumber, !(value is String), number.doubleValue == number.doubleValue.rounded() else {
                throw failure(path, "Member must be an integer")
            }
            if let min, number.intValue < min { throw failure(path, "Member must have value greater than or equal to \(min)") }
            if let max, number.intValue > max { throw failure(path, "Member must have value less than or equal to \(max)") }
        case .list(let element, let min, let max):
            guard let list = value as? [Any] else { throw failure(path, "Member must be a list") }
            if let min, list.count < min { throw failure(path, "Member must have length greater than or equal to \(min)") }
            if let max, list.count > max { throw failure(path, "Member must have length less than or equal to \(max)") }
            for (index, item) in list.enumerated() where !(item is NSNull) {
                try check(item, against: element, at: "\(path).\(index + 1).member")
            }
        case .map(let values):
            guard let map = value as? [String: Any] else { throw failure(path, "Member must be a map") }
            for (key, item) in map where !(item is NSNull) {
                try check(item, against: values, at: "\(path).\(key)")
            }
        case .structure(let name):
            guard let shape = structures[name] else { return }
            guard let object = value as? [String: Any] else { throw failure(path, "Member must be a structure") }
            try check(object, against: shape, at: path)
        }
    }

    static func check(_ object: [String: Any], against shape: Shape, at path: String) throws(CognitoError) {
        let prefix = path.isEmpty ? "" : path + "."
        for name in shape.required where object[name] == nil || object[name] is NSNull {
            throw failure(prefix + lowerFirst(name), "Member must not be null")
        }
        for (name, value) in object.sorted(by: { $0.key < $1.key }) where !(value is NSNull) {
            guard let member = shape.members[name] else { continue }
            try check(value, against: member, at: prefix + lowerFirst(name))
        }
    }

    static func lowerFirst(_ name: String) -> String { name.prefix(1).lowercased() + name.dropFirst() }
}
