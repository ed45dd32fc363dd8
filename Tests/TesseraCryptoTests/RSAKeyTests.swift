import Foundation
import TesseraCore
import Testing
import TesseraTestSupport
@testable import TesseraCrypto

@Suite("RSA keys")
struct RSAKeyTests {
    @Test("a generated key survives a PKCS#8 PEM round trip with the same kid")
    func generatedKeyRoundTrip() throws {
        let key = try RSAPrivateKey.generate()
        #expect(key.bits == 2048)
        let pem = try key.pkcs8PEM()
        #expect(pem.hasPrefix("-----BEGIN PRIVATE KEY-----"))
        let reloaded = try RSAPrivateKey(pem: pem)
        #expect(reloaded.publicKey.jwk == key.publicKey.jwk)
    }

    @Test("PKCS#1 and PKCS#8 keys from the openssl command load", arguments: [
        ["genrsa", "-traditional", "2048"],
        ["genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:3072"],
    ])
    func opensslKeysLoad(arguments: [String]) throws {
        let pem = try OpenSSLCommand.run(arguments)
        let key = try RSAPrivateKey(pem: pem)
        #expect(key.bits >= 2048)
        if arguments.contains("-traditional") { #expect(pem.contains("BEGIN RSA PRIVATE KEY")) }
    }

    @Test("a key under 2048 bits is refused")
    func smallKeyRefused() throws {
        let pem = try OpenSSLCommand.run(["genrsa", "-traditional", "1024"])
        #expect(throws: CryptoError.keyTooSmall(bits: 1024, minimum: 2048)) { try RSAPrivateKey(pem: pem) }
        #expect(throws: CryptoError.keyTooSmall(bits: 1024, minimum: 2048)) { try RSAPrivateKey.generate(bits: 1024) }
    }

    @Test("an EC key is refused as not RSA")
    func ecKeyRefused() throws {
        let pem = try OpenSSLCommand.run(["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256"])
        #expect(throws: CryptoError.notRSA) { try RSAPrivateKey(pem: pem) }
    }

    @Test("an encrypted key is refused without prompting")
    func encryptedKeyRefused() throws {
        let pem = try OpenSSLCommand.run(["genpkey", "-algorithm", "RSA", "-aes256", "-pass", "pass:secret"])
        #expect(throws: CryptoError.self) { try RSAPrivateKey(pem: pem) }
    }

    @Test("text that is not a PEM key is refused", arguments: ["", "hello", "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"])
    func garbageRefused(text: String) {
        #expect(throws: CryptoError.self) { try RSAPrivateKey(pem: text) }
    }

    @Test("the JWK carries kty, n, e, alg, use and the RFC 7638 thumbprint as kid")
    func jwkFields() throws {
        let key = try RSAPrivateKey.generate()
        let jwk = key.publicKey.jwk
        #expect(jwk.kty == "RSA")
        #expect(jwk.e == "AQAB")
        #expect(jwk.alg == "RS256")
        #expect(jwk.use == "sig")
        #expect(Base64URL.decode(jwk.n)?.count == 256)
        #expect(jwk.kid == JWK.thumbprint(n: jwk.n, e: jwk.e))
        let json = try JSONSerialization.jsonObject(with: Data(jwk.jsonString().utf8)) as? [String: String]
        #expect(Set(json?.keys.map { $0 } ?? []) == ["kty", "n", "e", "alg", "use", "kid"])
    }

    @Test("the thumbprint matches the example of RFC 7638 §3.1")
    func rfc7638Example() {
        let n = "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw"
        #expect(JWK.thumbprint(n: n, e: "AQAB") == "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs")
    }

    @Test("an RS256 signature verifies with the public key, also rebuilt from its JWK, and fails when altered")
    func signAndVerify() throws {
        let key = try RSAPrivateKey.generate()
        let message = Array("header.payload".utf8)
        let signature = try key.signRS256(message)
        #expect(signature.count == 256)
        #expect(key.publicKey.verifyRS256(signature: signature, message: message))
        let rebuilt = try RSAPublicKey(jwk: key.publicKey.jwk)
        #expect(rebuilt.verifyRS256(signature: signature, message: message))
        var tampered = signature
        tampered[10] ^= 1
        #expect(!rebuilt.verifyRS256(signature: tampered, message: message))
        #expect(!rebuilt.verifyRS256(signature: signature, message: Array("header.payloaD".utf8)))
        let other = try RSAPrivateKey.generate()
        #expect(!other.publicKey.verifyRS256(signature: signature, message: message))
    }

    @Test("a signature made by the openssl command verifies with our module")
    func foreignSignatureVerifies() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent(UUID().uuidString)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let keyFile = directory.appendingPathComponent("key.pem")
        let messageFile = directory.appendingPathComponent("message")
        let signatureFile = directory.appendingPathComponent("signature")
        try OpenSSLCommand.run(["genrsa", "-out", keyFile.path, "2048"])
        try Data("signed by openssl".utf8).write(to: messageFile)
        try OpenSSLCommand.run(["dgst", "-sha256", "-sign", keyFile.path, "-out", signatureFile.path, messageFile.path])
        let key = try RSAPrivateKey(pem: String(contentsOf: keyFile, encoding: .utf8))
        let signature = try Array(Data(contentsOf: signatureFile))
        #expect(key.publicKey.verifyRS256(signature: signature, message: Array("signed by openssl".utf8)))
    }
}

@Suite("Primitives")
struct PrimitiveTests {
    @Test("SHA-256 matches the FIPS 180-2 vector for \"abc\"")
    func sha256() {
        let hex = SHA256.hash("abc").map { String(format: "%02x", $0) }.joined()
        #expect(hex == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    }

    @Test("the CSPRNG gives the requested number of distinct bytes")
    func random() {
        let a = SecureRandom.bytes(32)
        let b = SecureRandom.bytes(32)
        #expect(a.count == 32 && b.count == 32)
        #expect(a != b)
    }

    @Test("base64url round-trips every length and refuses padding, the standard alphabet and stray bits")
    func base64url() {
        for length in 0..<40 {
            let bytes = (0..<length).map { UInt8(truncatingIfNeeded: $0 &* 37 &+ 250) }
            let encoded = Base64URL.encode(bytes)
            #expect(!encoded.contains("=") && !encoded.contains("+") && !encoded.contains("/"))
            #expect(Base64URL.decode(encoded).map(Array.init) == bytes)
            // The same text as Foundation's base64, in the URL alphabet without padding (RFC 4648 §5),
            // from contiguous bytes and from a sequence that is not.
            let foundation = Data(bytes).base64EncodedString()
                .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
            #expect(encoded == foundation)
            #expect(Base64URL.encode(bytes.lazy.map { $0 }) == foundation)
        }
        #expect(Base64URL.decode("YQ==") == nil)
        #expect(Base64URL.decode("a+b/") == nil)
        #expect(Base64URL.decode("abcde") == nil)
        #expect(Base64URL.decode("YQ").map(Array.init) == Array("a".utf8))
        #expect(Base64URL.decode("YR") == nil, "stray bits after the last byte")
    }
}

@Suite("Sealed secrets (AES-256-GCM)")
struct SealerTests {
    let sealer = AESGCMSealer(key: OpenSSLPrimitives().randomBytes(32))

    @Test("a box opens for its own context only; any altered byte or another key refuses")
    func roundTrip() throws {
        let secret = Array("a webhook secret".utf8)
        let box = try sealer.seal(secret, context: "whe_1")
        #expect(try sealer.open(box, context: "whe_1") == secret)
        #expect(try sealer.seal(secret, context: "whe_1") != box, "a fresh nonce each time")
        #expect(throws: AESGCMSealer.OpenFailure.self) { try sealer.open(box, context: "whe_2") }
        for index in box.indices {
            var altered = box
            altered[index] ^= 0x01
            #expect(throws: AESGCMSealer.OpenFailure.self) { try sealer.open(altered, context: "whe_1") }
        }
        #expect(throws: AESGCMSealer.OpenFailure.self) { try AESGCMSealer(key: OpenSSLPrimitives().randomBytes(32)).open(box, context: "whe_1") }
        #expect(throws: AESGCMSealer.OpenFailure.self) { try sealer.open(Array(box.prefix(20)), context: "whe_1") }
    }
}
