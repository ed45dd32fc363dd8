import COpenSSL
import Foundation
import TesseraCore

/// An RSA private key held by OpenSSL.
///
/// `@unchecked Sendable`: the wrapped `EVP_PKEY` is never mutated after construction, and
/// OpenSSL 3 documents concurrent read-only use of one key (signing with a fresh
/// `EVP_MD_CTX` per call) as thread-safe. The pointer is freed exactly once, in `deinit`.
public final class RSAPrivateKey: @unchecked Sendable {
    /// Tessera refuses keys below this size (NIST SP 800-131A).
    public static let minimumBits = 2048

    let pointer: OpaquePointer

    /// The public half.
    public let publicKey: RSAPublicKey

    private init(taking pointer: OpaquePointer) throws(CryptoError) {
        self.pointer = pointer
        guard EVP_PKEY_get_base_id(pointer) == EVP_PKEY_RSA else { throw .notRSA }
        let bits = Int(EVP_PKEY_get_bits(pointer))
        guard bits >= Self.minimumBits else { throw .keyTooSmall(bits: bits, minimum: Self.minimumBits) }
        self.publicKey = try RSAPublicKey(components: Self.components(of: pointer))
    }

    deinit { EVP_PKEY_free(pointer) }

    /// Loads a PEM private key: PKCS#8 (`BEGIN PRIVATE KEY`) or PKCS#1 (`BEGIN RSA PRIVATE KEY`),
    /// unencrypted, 2048 bits or more.
    public convenience init(pem: String) throws(CryptoError) {
        let bytes = Array(pem.utf8)
        guard let key = bytes.withUnsafeBytes({ tessera_read_private_key($0.baseAddress, Int32($0.count)) }) else {
            throw .unreadableKey(openSSLErrorMessage("no PEM private key found"))
        }
        do {
            try self.init(taking: key)
        } catch {
            throw error
        }
    }

    /// Generates a fresh key.
    public static func generate(bits: Int = 2048) throws(CryptoError) -> RSAPrivateKey {
        guard bits >= minimumBits else { throw .keyTooSmall(bits: bits, minimum: minimumBits) }
        guard let context = EVP_PKEY_CTX_new_from_name(nil, "RSA", nil) else {
            throw .openSSL(openSSLErrorMessage("EVP_PKEY_CTX_new_from_name"))
        }
        defer { EVP_PKEY_CTX_free(context) }
        var key: OpaquePointer?
        guard EVP_PKEY_keygen_init(context) == 1,
              EVP_PKEY_CTX_set_rsa_keygen_bits(context, Int32(bits)) == 1,
              EVP_PKEY_generate(context, &key) == 1,
              let key
        else { throw .openSSL(openSSLErrorMessage("RSA key generation failed")) }
        return try RSAPrivateKey(taking: key)
    }

    /// Size of the modulus in bits.
    public var bits: Int { Int(EVP_PKEY_get_bits(pointer)) }

    /// The key as unencrypted PKCS#8 PEM.
    public func pkcs8PEM() throws(CryptoError) -> String {
        guard let bio = tessera_write_private_key(pointer) else {
            throw .openSSL(openSSLErrorMessage("PEM_write_bio_PrivateKey"))
        }
        defer { BIO_free(bio) }
        var data: UnsafeMutablePointer<CChar>?
        let length = tessera_bio_mem_data(bio, &data)
        guard length > 0, let data else { throw .openSSL("empty PEM output") }
        return data.withMemoryRebound(to: UInt8.self, capacity: length) {
            String(decoding: UnsafeBufferPointer(start: $0, count: length), as: UTF8.self)
        }
    }

    /// An RS256 signature (RSASSA-PKCS1-v1_5 with SHA-256) over `message`.
    public func signRS256(_ message: [UInt8]) throws(CryptoError) -> [UInt8] {
        guard let context = EVP_MD_CTX_new() else { throw .openSSL("EVP_MD_CTX_new") }
        defer { EVP_MD_CTX_free(context) }
        guard EVP_DigestSignInit(context, nil, SHA256.algorithm, nil, pointer) == 1 else {
            throw .openSSL(openSSLErrorMessage("EVP_DigestSignInit"))
        }
        var length = 0
        guard EVP_DigestSign(context, nil, &length, message, message.count) == 1 else {
            throw .openSSL(openSSLErrorMessage("EVP_DigestSign (size)"))
        }
        var signature = [UInt8](repeating: 0, count: length)
        guard EVP_DigestSign(context, &signature, &length, message, message.count) == 1 else {
            throw .openSSL(openSSLErrorMessage("EVP_DigestSign"))
        }
        return Array(signature.prefix(length))
    }

    private static func components(of key: OpaquePointer) throws(CryptoError) -> (n: [UInt8], e: [UInt8]) {
        func parameter(_ name: String) throws(CryptoError) -> [UInt8] {
            var bignum: OpaquePointer?
            guard EVP_PKEY_get_bn_param(key, name, &bignum) == 1, let bignum else {
                throw .openSSL(openSSLErrorMessage("EVP_PKEY_get_bn_param \(name)"))
            }
            defer { BN_free(bignum) }
            var bytes = [UInt8](repeating: 0, count: Int(tessera_bn_num_bytes(bignum)))
            _ = BN_bn2bin(bignum, &bytes)
            return bytes
        }
        return (try parameter("n"), try parameter("e"))
    }
}

/// An RSA public key held by OpenSSL.
///
/// `@unchecked Sendable` for the same reason as ``RSAPrivateKey``: immutable after
/// construction, verified with a fresh context per call, freed once in `deinit`.
public final class RSAPublicKey: @unchecked Sendable {
    let pointer: OpaquePointer
    /// Modulus, big-endian, no leading zeros.
    public let modulus: [UInt8]
    /// Public exponent, big-endian, no leading zeros.
    public let exponent: [UInt8]

    /// Builds a public key from its modulus and exponent (big-endian).
    public init(components: (n: [UInt8], e: [UInt8])) throws(CryptoError) {
        let n = Array(components.n.drop { $0 == 0 })
        let e = Array(components.e.drop { $0 == 0 })
        guard !n.isEmpty, !e.isEmpty else { throw .invalidJWK("empty modulus or exponent") }
        let nBN = BN_bin2bn(n, Int32(n.count), nil)
        let eBN = BN_bin2bn(e, Int32(e.count), nil)
        defer { BN_free(nBN); BN_free(eBN) }
        guard let nBN, let eBN, let key = tessera_rsa_public_key(nBN, eBN) else {
            throw .invalidJWK(openSSLErrorMessage("not an RSA public key"))
        }
        self.pointer = key
        self.modulus = n
        self.exponent = e
    }

    deinit { EVP_PKEY_free(pointer) }

    /// Size of the modulus in bits.
    public var bits: Int { Int(EVP_PKEY_get_bits(pointer)) }

    /// Whether `signature` is a valid RS256 signature of `message` by this key.
    public func verifyRS256(signature: [UInt8], message: [UInt8]) -> Bool {
        guard let context = EVP_MD_CTX_new() else { return false }
        defer { EVP_MD_CTX_free(context) }
        guard EVP_DigestVerifyInit(context, nil, SHA256.algorithm, nil, pointer) == 1 else {
            ERR_clear_error()
            return false
        }
        let ok = EVP_DigestVerify(context, signature, signature.count, message, message.count) == 1
        if !ok { ERR_clear_error() }
        return ok
    }

    /// The key as a JWK for RS256 signatures, with its RFC 7638 thumbprint as `kid`.
    public var jwk: JWK {
        let n = Base64URL.encode(modulus)
        let e = Base64URL.encode(exponent)
        return JWK(kty: "RSA", n: n, e: e, alg: "RS256", use: "sig", kid: JWK.thumbprint(n: n, e: e))
    }

    /// Builds a public key from an RSA JWK.
    public convenience init(jwk: JWK) throws(CryptoError) {
        guard jwk.kty == "RSA" else { throw .invalidJWK("kty is not RSA") }
        guard let n = Base64URL.decode(jwk.n), let e = Base64URL.decode(jwk.e) else {
            throw .invalidJWK("n or e is not base64url")
        }
        try self.init(components: (Array(n), Array(e)))
    }
}
