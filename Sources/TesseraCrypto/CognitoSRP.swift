import COpenSSL
import Foundation
import TesseraCore

/// A non-negative big number in an OpenSSL `BIGNUM`, owned (and freed) by this object.
final class BigNumber: @unchecked Sendable {
    let pointer: OpaquePointer

    init(_ bytes: [UInt8]) {
        pointer = bytes.withUnsafeBufferPointer { BN_bin2bn($0.baseAddress, Int32($0.count), nil) }
    }

    init(word: UInt) {
        pointer = BN_new()
        BN_set_word(pointer, word)
    }

    private init(owning pointer: OpaquePointer) { self.pointer = pointer }

    deinit { BN_clear_free(pointer) }

    /// Big-endian bytes, no leading zeros (empty for zero).
    var bytes: [UInt8] {
        var out = [UInt8](repeating: 0, count: Int(tessera_bn_num_bytes(pointer)))
        _ = out.withUnsafeMutableBufferPointer { BN_bn2bin(pointer, $0.baseAddress) }
        return out
    }

    var isZero: Bool { BN_is_zero(pointer) == 1 }

    /// Runs an OpenSSL operation into a new number with a fresh context.
    static func compute(_ body: (OpaquePointer, OpaquePointer) -> Int32) -> BigNumber {
        let result = BN_new()!
        let context = BN_CTX_new()!
        defer { BN_CTX_free(context) }
        precondition(body(result, context) == 1, "big-number arithmetic failed: \(openSSLErrorMessage("BN"))")
        return BigNumber(owning: result)
    }

    /// `self^exponent mod modulus` in constant time (`BN_mod_exp_mont_consttime`; odd modulus).
    func power(_ exponent: BigNumber, modulo modulus: BigNumber) -> BigNumber {
        Self.compute { result, context in BN_mod_exp_mont_consttime(result, pointer, exponent.pointer, modulus.pointer, context, nil) }
    }

    func times(_ other: BigNumber, modulo modulus: BigNumber) -> BigNumber {
        Self.compute { result, context in BN_mod_mul(result, pointer, other.pointer, modulus.pointer, context) }
    }

    func plus(_ other: BigNumber, modulo modulus: BigNumber) -> BigNumber {
        Self.compute { result, context in BN_mod_add(result, pointer, other.pointer, modulus.pointer, context) }
    }

    func minus(_ other: BigNumber, modulo modulus: BigNumber) -> BigNumber {
        Self.compute { result, context in BN_mod_sub(result, pointer, other.pointer, modulus.pointer, context) }
    }

    func modulo(_ modulus: BigNumber) -> BigNumber {
        Self.compute { result, context in BN_nnmod(result, pointer, modulus.pointer, context) }
    }

    func times(_ other: BigNumber) -> BigNumber {
        Self.compute { result, context in BN_mul(result, pointer, other.pointer, context) }
    }

    func plus(_ other: BigNumber) -> BigNumber {
        Self.compute { result, _ in BN_add(result, pointer, other.pointer) }
    }
}

/// The arithmetic of Cognito's SRP-6a variant (contract §11.6), exactly as Amplify JS and
/// pycognito compute it: the 3072-bit group of RFC 3526 with g = 2, SHA-256, Cognito's
/// "padded hex" (minimal big-endian bytes, with a 0x00 in front when the top bit is set),
/// `x` over the pool id's suffix and the user id, and HKDF's "Caldera Derived Key".
/// Every exponentiation is `BN_mod_exp_mont_consttime`.
public enum CognitoSRP {
    /// RFC 3526 §4, the 3072-bit MODP group.
    static let primeHex = """
        FFFFFFFFFFFFFFFFC90FDAA22168C234C4C6628B80DC1CD129024E088A67CC74020BBEA63B139B22514A08798E3404DDEF9519B3CD3A431B302B0A6DF25F14374F\
        E1356D6D51C245E485B576625E7EC6F44C42E9A637ED6B0BFF5CB6F406B7EDEE386BFB5A899FA5AE9F24117C4B1FE649286651ECE45B3DC2007CB8A163BF0598DA4836\
        1C55D39A69163FA8FD24CF5F83655D23DCA3AD961C62F356208552BB9ED529077096966D670C354E4ABC9804F1746C08CA18217C32905E462E36CE3BE39E772C180E86\
        039B2783A2EC07A28FB5C55DF06F4C52C9DE2BCBF6955817183995497CEA956AE515D2261898FA051015728E5A8AAAC42DAD33170D04507A33A85521ABDF1CBA64ECFB\
        850458DBEF0A8AEA71575D060C7DB3970F85A6E1E4C7ABF5AE8CDB0933D71E8C94E04A25619DCEE3D2261AD2EE6BF12FFA06D98A0864D87602733EC86A64521F2B1817\
        7B200CBBE117577A615D6C770988C0BAD946E208E24FA074E5AB3143DB5BFCE0FD108E4B82D120A93AD2CAFFFFFFFFFFFFFFFF
        """
    static let prime = BigNumber(hexBytes(primeHex))
    static let generator = BigNumber(word: 2)
    /// k = H(pad(N) | pad(g)).
    static let multiplier = BigNumber(SHA256.hash(padded(hexBytes(primeHex)) + [2]))

    /// Cognito's padding of a number's bytes: minimal, with 0x00 in front when the top bit is set.
    public static func padded(_ bytes: [UInt8]) -> [UInt8] {
        let minimal = Array(bytes.drop { $0 == 0 })
        guard let first = minimal.first else { return [0] }
        return first & 0x80 != 0 ? [0] + minimal : minimal
    }

    /// Lowercase hex of a number's minimal bytes (Cognito's `SALT` and `SRP_B` as sent).
    public static func minimalHex(_ bytes: [UInt8]) -> String {
        let minimal = Array(bytes.drop { $0 == 0 })
        guard !minimal.isEmpty else { return "0" }
        let hex = Hex.encode(minimal)
        return hex.hasPrefix("0") ? String(hex.dropFirst()) : hex
    }

    /// The bytes of a hex number of any length (odd lengths allowed), nil when not hex.
    public static func hexBytes(_ hex: String) -> [UInt8] {
        parseHex(hex) ?? []
    }

    public static func parseHex(_ hex: String) -> [UInt8]? {
        var text = Array(hex.utf8)
        guard !text.isEmpty, text.count <= 2048 else { return nil }
        if text.count % 2 == 1 { text.insert(UInt8(ascii: "0"), at: 0) }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(text.count / 2)
        var index = 0
        while index < text.count {
            guard let high = nibble(text[index]), let low = nibble(text[index + 1]) else { return nil }
            bytes.append(high << 4 | low)
            index += 2
        }
        return bytes
    }

    private static func nibble(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }

    /// x = H(pad(salt) | H(poolSuffix | userID | ":" | password)).
    static func x(poolSuffix: String, userID: String, password: String, salt: [UInt8]) -> BigNumber {
        let inner = SHA256.hash(Array("\(poolSuffix)\(userID):\(password)".utf8))
        return BigNumber(SHA256.hash(padded(salt) + inner))
    }

    /// The verifier v = g^x mod N a server keeps for a password.
    public static func verifier(poolSuffix: String, userID: String, password: String, salt: [UInt8]) -> [UInt8] {
        generator.power(x(poolSuffix: poolSuffix, userID: userID, password: password, salt: salt), modulo: prime).bytes
    }

    /// The server's B = (k·v + g^b) mod N for its secret `b`.
    public static func serverPublic(verifier: [UInt8], b: [UInt8]) -> [UInt8] {
        multiplier.times(BigNumber(verifier), modulo: prime).plus(generator.power(BigNumber(b), modulo: prime), modulo: prime).bytes
    }

    /// u = H(pad(A) | pad(B)).
    static func u(_ a: [UInt8], _ b: [UInt8]) -> [UInt8] {
        SHA256.hash(padded(a) + padded(b))
    }

    /// Whether A is acceptable: A mod N ≠ 0 (else the session key is forced).
    public static func isValidClientPublic(_ a: [UInt8]) -> Bool {
        !BigNumber(a).modulo(prime).isZero
    }

    /// The 16-byte key both sides derive, on the server's side: S = (A·v^u)^b mod N, then
    /// HKDF(ikm: pad(S), salt: pad(u), info: "Caldera Derived Key"). Nil for A mod N = 0 or u = 0.
    public static func serverKey(clientPublic a: [UInt8], serverPublic bigB: [UInt8], b: [UInt8], verifier: [UInt8]) -> [UInt8]? {
        guard isValidClientPublic(a) else { return nil }
        let scrambler = u(a, bigB)
        guard scrambler.contains(where: { $0 != 0 }) else { return nil }
        let base = BigNumber(a).modulo(prime).times(BigNumber(verifier).power(BigNumber(scrambler), modulo: prime), modulo: prime)
        let secret = base.power(BigNumber(b), modulo: prime)
        return derivedKey(secret: secret.bytes, u: scrambler)
    }

    /// The client's side (for tests and benchmarks; pycognito's `get_password_authentication_key`):
    /// S = (B − k·g^x)^(a + u·x) mod N.
    public static func clientKey(
        poolSuffix: String, userID: String, password: String, salt: [UInt8], serverPublic bigB: [UInt8], a: [UInt8]
    ) -> [UInt8] {
        let clientPublic = generator.power(BigNumber(a), modulo: prime).bytes
        let scrambler = u(clientPublic, bigB)
        let xValue = x(poolSuffix: poolSuffix, userID: userID, password: password, salt: salt)
        let gx = generator.power(xValue, modulo: prime)
        let base = BigNumber(bigB).minus(multiplier.times(gx, modulo: prime), modulo: prime)
        let exponent = BigNumber(a).plus(BigNumber(scrambler).times(xValue))
        return derivedKey(secret: base.power(exponent, modulo: prime).bytes, u: scrambler)
    }

    /// A = g^a mod N.
    public static func clientPublic(a: [UInt8]) -> [UInt8] {
        generator.power(BigNumber(a), modulo: prime).bytes
    }

    /// HKDF-SHA256 as Cognito uses it: PRK = HMAC(pad(u), pad(S)); OKM = HMAC(PRK, info | 0x01)[0..<16].
    static func derivedKey(secret: [UInt8], u: [UInt8]) -> [UInt8] {
        let prk = SHA256.hmac(key: padded(u), padded(secret))
        return Array(SHA256.hmac(key: prk, Array("Caldera Derived Key".utf8) + [1]).prefix(16))
    }

    /// The password claim: base64(HMAC(key, poolSuffix | userID | secretBlock | timestamp)).
    public static func claimSignature(key: [UInt8], poolSuffix: String, userID: String, secretBlock: [UInt8], timestamp: String) -> [UInt8] {
        SHA256.hmac(key: key, Array(poolSuffix.utf8) + Array(userID.utf8) + secretBlock + Array(timestamp.utf8))
    }
}
