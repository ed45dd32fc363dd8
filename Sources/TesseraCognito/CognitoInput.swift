import Foundation

/// An operation's JSON input (contract §11.1): an object whose members are read by name, typed,
/// with Cognito's `InvalidParameterException` for a missing or mistyped member. JSON `null` is
/// treated as absent.
struct CognitoInput: @unchecked Sendable {
    let members: [String: Any]

    init(_ body: [UInt8]) throws(CognitoError) {
        if body.allSatisfy({ $0 == 0x20 || $0 == 0x0A || $0 == 0x0D || $0 == 0x09 }) {
            members = [:]
            return
        }
        guard let object = (try? JSONSerialization.jsonObject(with: Data(body))) as? [String: Any] else {
            throw CognitoError("SerializationException", "The request body is not a JSON object.")
        }
        members = object.filter { !($0.value is NSNull) }
    }

    /// A string member; nil when absent.
    func string(_ name: String) throws(CognitoError) -> String? {
        guard let value = members[name] else { return nil }
        guard let text = value as? String else {
            throw .invalidParameter("1 validation error detected: Value at '\(Self.lowerFirst(name))' failed to satisfy constraint: Member must be a string")
        }
        return text
    }

    /// A string member that must be there and non-empty.
    func required(_ name: String) throws(CognitoError) -> String {
        guard let text = try string(name), !text.isEmpty else {
            throw .invalidParameter("1 validation error detected: Value at '\(Self.lowerFirst(name))' failed to satisfy constraint: Member must not be null")
        }
        return text
    }

    func bool(_ name: String) throws(CognitoError) -> Bool? {
        guard let value = members[name] else { return nil }
        guard let flag = value as? Bool else {
            throw .invalidParameter("Value at '\(Self.lowerFirst(name))' must be a boolean")
        }
        return flag
    }

    func int(_ name: String) throws(CognitoError) -> Int? {
        guard let value = members[name] else { return nil }
        guard let number = value as? NSNumber, number.doubleValue == number.doubleValue.rounded() else {
            throw .invalidParameter("Value at '\(Self.lowerFirst(name))' must be an integer")
        }
        return number.intValue
    }

    /// A map of strings (`AuthParameters`, `ChallengeResponses`, `ClientMetadata`).
    func stringMap(_ name: String) throws(CognitoError) -> [String: String] {
        guard let value = members[name] else { return [:] }
        guard let map = value as? [String: Any] else { throw .invalidParameter("Value at '\(Self.lowerFirst(name))' must be a map") }
        var strings: [String: String] = [:]
        for (key, entry) in map where !(entry is NSNull) {
            guard let text = entry as? String else { throw .invalidParameter("Values of '\(Self.lowerFirst(name))' must be strings") }
            strings[key] = text
        }
        return strings
    }

    /// A list of strings (`UserAttributeNames`, `AttributesToGet`).
    func stringList(_ name: String) throws(CognitoError) -> [String]? {
        guard let value = members[name] else { return nil }
        guard let list = value as? [Any], list.allSatisfy({ $0 is String }) else {
            throw .invalidParameter("Value at '\(Self.lowerFirst(name))' must be a list of strings")
        }
        return list.map { $0 as! String }
    }

    /// An `AttributeListType`: `[{"Name": …, "Value": …}]`, in order.
    func attributes(_ name: String) throws(CognitoError) -> [(name: String, value: String)] {
        guard let value = members[name] else { return [] }
        guard let list = value as? [Any] else { throw .invalidParameter("Value at '\(Self.lowerFirst(name))' must be a list") }
        var attributes: [(name: String, value: String)] = []
        for entry in list {
            guard let object = entry as? [String: Any], let attributeName = object["Name"] as? String, !attributeName.isEmpty else {
                throw .invalidParameter("1 validation error detected: Value at '\(Self.lowerFirst(name)).member.name' failed to satisfy constraint: Member must not be null")
            }
            guard let attributeValue = (object["Value"] as? String) ?? (object["Value"] == nil || object["Value"] is NSNull ? "" : nil) else {
                throw .invalidParameter("Value of attribute \(attributeName) must be a string")
            }
            attributes.append((attributeName, attributeValue))
        }
        return attributes
    }

    /// Cognito names members in messages with a lower-case first letter.
    static func lowerFirst(_ name: String) -> String { name.prefix(1).lowercased() + name.dropFirst() }
}
