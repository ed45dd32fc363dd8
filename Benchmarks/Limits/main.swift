// Measures the raw limits of Tessera's hot paths with the server's own code, on every core:
// bcrypt verifications per second at a cost (HummingbirdBcrypt, as the login path uses it),
// and RS256 signatures and verifications per second (TesseraCrypto, as token issuing and
// verification use it). Prints one JSON object. Used by scripts/bench.
//
//   tessera-bench-limits [--bcrypt-cost 12] [--seconds 3] [--threads N] [--only bcrypt|sign|verify|srp]
//
// `--only` measures one limit (scripts/bench measures the signing rate again right beside
// each path compared with it).
import Foundation
import HummingbirdBcrypt
import Synchronization
import TesseraCore
import TesseraCrypto

/// The value after `name` on the command line, if any.
func argument(_ name: String) -> String? {
    let arguments = CommandLine.arguments
    guard let index = arguments.firstIndex(of: name), index + 1 < arguments.count else { return nil }
    return arguments[index + 1]
}

func option(_ name: String, default value: Double) -> Double {
    argument(name).flatMap(Double.init) ?? value
}

let cost = Int(option("--bcrypt-cost", default: 12))
let seconds = option("--seconds", default: 3)
let threads = Int(option("--threads", default: Double(ProcessInfo.processInfo.activeProcessorCount)))

/// Runs `work` on `threads` threads for `seconds`; returns operations per second.
func rate(_ work: @escaping @Sendable () -> Void) -> Double {
    let count = Atomic<Int>(0)
    let group = DispatchGroup()
    let start = Date()
    let deadline = start.addingTimeInterval(seconds)
    for _ in 0..<threads {
        group.enter()
        Thread {
            while Date() < deadline {
                work()
                count.add(1, ordering: .relaxed)
            }
            group.leave()
        }.start()
    }
    group.wait()
    return Double(count.load(ordering: .relaxed)) / Date().timeIntervalSince(start)
}

let only = argument("--only")
func measures(_ name: String) -> Bool { only == nil || only == name }

var result: [String: Any] = ["threads": threads, "bcrypt_cost": cost]
if measures("bcrypt") {
    let hash = Bcrypt.hash("correct horse battery", cost: UInt8(cost))
    result["bcrypt_verify_per_s"] = rate { _ = Bcrypt.verify("correct horse battery", hash: hash) }
}
let key = try RSAPrivateKey.generate()
let message = Array("eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJiZW5jaCJ9".utf8)
let signature = try key.signRS256(message)
if measures("sign") {
    result["rs256_sign_per_s"] = rate { _ = try? key.signRS256(message) }
}
if measures("verify") {
    result["rs256_verify_per_s"] = rate { _ = key.publicKey.verifyRS256(signature: signature, message: message) }
}
if measures("srp") {
    // What the server's SRP sign-in cannot do without: B = k·v + g^b, then (A·v^u)^b — three
    // 3072-bit exponentiations — and one RS256 signature (the access token; the ID token's is
    // a second, which the ratio then shows).
    let verifier = CognitoSRP.verifier(poolSuffix: "Bench", userID: "user", password: "correct horse battery", salt: Array(repeating: 7, count: 16))
    let clientPublic = CognitoSRP.clientPublic(a: Array(repeating: 3, count: 32))
    result["srp_server_per_s"] = rate {
        let b = OpenSSLPrimitives().randomBytes(32)
        let serverPublic = CognitoSRP.serverPublic(verifier: verifier, b: b)
        _ = CognitoSRP.serverKey(clientPublic: clientPublic, serverPublic: serverPublic, b: b, verifier: verifier)
        _ = try? key.signRS256(message)
    }
}
let data = try JSONSerialization.data(withJSONObject: result, options: [.sortedKeys])
print(String(decoding: data, as: UTF8.self))
