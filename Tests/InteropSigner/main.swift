// Test-only helper for the interop stage: reads a JSON object of claims on stdin and prints
// it signed (compact JWS, RS256, typ JWT) by the active key of the keys dir and database
// given as TESSERA_KEYS_DIR / TESSERA_DATABASE, through the same code path the server uses.
import Foundation
import Logging
import Tessera
import TesseraCore
import TesseraCrypto

/// Claims passed through unchanged.
struct RawClaims: Encodable {
    let object: [String: AnyJSON]
    func encode(to encoder: any Encoder) throws { try object.encode(to: encoder) }
}

/// Any JSON value, for passing claims through.
enum AnyJSON: Codable {
    case string(String), number(Double), integer(Int), bool(Bool), array([AnyJSON]), object([String: AnyJSON]), null

    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() { self = .null }
        else if let value = try? container.decode(Bool.self) { self = .bool(value) }
        else if let value = try? container.decode(Int.self) { self = .integer(value) }
        else if let value = try? container.decode(Double.self) { self = .number(value) }
        else if let value = try? container.decode(String.self) { self = .string(value) }
        else if let value = try? container.decode([AnyJSON].self) { self = .array(value) }
        else { self = .object(try container.decode([String: AnyJSON].self)) }
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .string(let value): try container.encode(value)
        case .number(let value): try container.encode(value)
        case .integer(let value): try container.encode(value)
        case .bool(let value): try container.encode(value)
        case .array(let value): try container.encode(value)
        case .object(let value): try container.encode(value)
        case .null: try container.encodeNil()
        }
    }
}

let settings = try SettingsResolver(flags: [:]).resolve()
let storage = try await TesseraRuntime.openDatabase(settings, logger: Logger(label: "interop-signer"))
let keys = try await TesseraRuntime.loadKeys(settings, storage: storage, logger: Logger(label: "interop-signer"))
let input = FileHandle.standardInput.readDataToEndOfFile()
let claims = try JSONDecoder().decode([String: AnyJSON].self, from: input)
print(try keys.sign(RawClaims(object: claims), type: "JWT"))
