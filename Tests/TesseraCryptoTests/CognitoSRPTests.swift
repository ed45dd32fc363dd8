import Foundation
import Testing
import TesseraCore
@testable import TesseraCrypto

/// Cognito's SRP arithmetic (contract §11.6) pinned to vectors that pycognito's own functions
/// (`pycognito.aws_srp`, 2024.5.1) computed from fixed inputs: a = 0x33…33, b = 0x77…77, the
/// pool `eu-west-1_AbC123xyz`, one user and password, and two salts — one whose hex starts
/// with 8–f (padded with 00) and one of odd length (padded with 0).
@Suite("Cognito SRP")
struct CognitoSRPTests {
    struct Vector: Sendable {
        let salt: String
        let verifier: String
        let serverPublic: String
        let key: String
        let signature: String
    }

    static let a = [UInt8](repeating: 0x33, count: 32)
    static let b = [UInt8](repeating: 0x77, count: 32)
    static let poolSuffix = "AbC123xyz"
    static let userID = "A7c_LoXoZ1KNZkbXXpAE9w"
    static let password = "correct horse battery"
    static let clientPublic = "76136a71c69ee94724be3f6839b580d01c73e8ea6819b807c29d2e462c00ce9a135f29827b80e362015694958abc0b340633eec4cf8f96060c7f8a077668b0cc33438e36893582d20f74c3ee4b083bfaca2ef0be0682320859c0d820bcb1d41622b374d6c8cfa51bb1d557f27e43c67bda674edbfb5800ca0b30d7f56ceb20774a9d31dfd3be996a878ca06fc0aca6564563f614b360ddf6c5b962afffa8917a61613f7730344fee390acb2527ba48ef3f743d2555d9d6b251bbec1394a1235a45f3f6ab2650b037454ac313ab1bfe44cc459f21448bb529ccf71ee34710ddb5017e1c13d1c2e04fd73ecd4286bd45976b84c47421973555b61775df41414a9c3cff5592eb50bcce6e3a302916bc66caeb7fd5456d0c27497da9eb8817363eef281de6164a68e3663da14dfe20d92d3c9399235bad6f5c24218fc079f06552732dfd8afad0cfca003cff29fd7a8724bb7c4a6c403591c4f7f5ce919934861b766af1cbb4df2ce171e988b13fe6437e9a4029ae75f85ed500e0f9c3eebd77115b"
    static let vectors = [
        Vector(salt: "8f1e2d3c4b5a69788796a5b4c3d2e1f0", verifier: "8def08f18725cdbccc9f2b4128ca37d6d8d5d02e8a7769ee3761782ded0f0edc8568cf04220ad2954b758baf17dc403e0f6c30a7deec6f586567eb9890d8b09c3b89e590fab00c63cdbda1e7021b1a42730efdd80cf7e8e1aa4aed3fb1169aa68c22ef2a2fe584d1f44ded6eb1e54278d8a1f04e3b412e1af28766b4abcc93c303519b22af07b0045a9804f0a3210718b3e03a715f0c586e4822f54c1e3b893962b24e665f6b40243f1f11819b0d8764264f6be74f93d4aef2c2cbf482e1a2ac77a7493d9caa866656771095a8ade7c3f7ed49f6f8e2b4f15ad316a17508362920bb87077a3fd8fc62ea56d4005a94643ca50e977b3b77c7debde35c7d814fa94604fdf785f563a462e2f9ca30e580535fc987b82ec3b9b29e5ff532c1177c984312926aa8e9e8cd0c820f55815349f81776042dcd500ca143a055074714e19f38a82fe21e1159384d74a9b148a264d1d73871aa1b52c040370c8018587bbf41f30c15ba3aa59733c56109cc549ee1487ef57e3a53b3fdc48c112daad38f1f12", serverPublic: "ce03faf6b9c8701ec3e054d41847a28a5bed93671168e00ef890bf32100149508b82de72e8e29d85b51d2919b19f2ed47f94651598683dc09af1daef451bbeb26b9a9501f47f4e19d0493371cf4229f7ecab5dfc2e0197f30d2659a789b4469665bcd4f1f4ecad6e7a866799a950133d270cd9d264becf2ef4c14b89b707df1b8a64cc858215042a12167b6bac93aee4bac8dc49623212c7f6869c854e1582559c1a0fa69bc2f0027a8a870c43b118fca6d9f588efaac4db1d254a7f371957d250b2a32fd10eec47c26a01e266724c99580e6fed9fccc42e5d533e2b4d292480e19f81e27dae0c98f1d7b8577f58aa23461943a1d7cda3d2ee1df8f73596db0b3c9401642d9738055d2fc94c4dc4780a4de95e46ce30ce3c343e133f2e2a44305206171e2a74d27eb13ddc558557d65ebbeff23d9f6179ce843e4e1d5dabba917cabf56191b9d9f8c746a9891a2f92220cc26a2d15e3af347dfe6ae8d758faa04047ea8f089714e2e6b8f99fa5b17a63edc7fb7d5df80a0642bc13d6fb9b3ef3", key: "ba278217bbcdf7a088900873cfae7540", signature: "2ATHT/O2ZQJ3Ncy2Peual4guq7K/Tg8ycOAsQmtR/hg="),
        Vector(salt: "a1b2c3d4e5f60718293a4b5c6d7e8f9", verifier: "c50671fefdf5f4c37bd11180bd9329244a32d2120b959b44dbae8e18ba86e8a4debcce5672ed1caad2d704ed69437f9b9855e2acf3b0dfb34a77bd4c8366727368e77417e309923b9e68be62111e26fbcc33bf8499993a7bee0ed6edf76c1e24ef7d7749ff60934b7130cb1c604136ae48b1301b291f87ffb18a36e1f2d020307214d7ac9da9bc0bcb49f0c7d40b0624ddd3b16bc56f71551a0ee4052bba7fa4122f8d31300e1762f9087d800383ccc1e3be4beb62d254eb415adaa20a3df89816027ed392c67567c9e16600b2cf3b6e2820fc6715d7889e91b4c1655ddefee9b2b20b53b538bdba8ecc7e25185fd88b6b83bf4a683386a758f1039d105eb3b0f7c8278bb989a6871249614c50304e643d154b20250266a46bddd59602818b52500e49d5325c205537bc7d4ad43a0687804fbca400842a6250c80290ec206ff892cfee1074c395405162041b0c510880d33a76d5e10e791484f95237f6ce6867615a1d2c73ab0d8cbba3a2edbee93de5f42cc7b698fdc6d179a551fa83f3abf1", serverPublic: "79c603905dedcef42cb0aac2e4a2fa9c417913f01b72aa0877d05c216bbedc422c40e449ff061fd9eb9f1694e7957aa815bf050c7ea7a204468280a346a6c0663e6b0d61e09bea2494052755a6b6a135f5b4adf475aa7c7f44228f404030a1b75cefe60af04fb7243a2296205f13687e29e08b7364ed6423150bb49f0e7b7ca21b318954787f1106428c026e0c9b5af4d1b44fd3f557c8bc2c22cb7478a614ab8ef2d98545a5fc3061df1c4c44f6ca4810c9cb30e9aa05ea2c0089662df0491abed90860543886f197daf8f1a75df0a42e2e63d01bf0c9eef4d9768f777cc3ba52fbc92e0835291c0d1dc868b2c26f06d63fe648d26805211cea110af524871791c817f0ab4600a9f36c40bbdf6db1dc96aaedff55099d817387d1d852e91b6905cffacdeb5fc6a7d455c59a5f843cefaa160d7e80a230f74004db289ea3b56b3ffdd987fef5d0c822488933e5df2672ceed7a220233f7ad14f41681c20b389af9fcb134ba59d66c3ac862924eecff258b78dc5165a8746de8e2a50f64142ef6", key: "7eaf6dbff16b5b1662dfb85a8cf45166", signature: "GSB7ZIKiILTp5ZEl3izSVOTl/JFXB7SlAkkGhqPF/Xc="),
    ]

    func hex(_ bytes: [UInt8]) -> String { bytes.map { String(format: "%02x", $0) }.joined() }

    @Test("A = g^a mod N as pycognito computes it")
    func clientPublic() {
        #expect(CognitoSRP.minimalHex(CognitoSRP.clientPublic(a: Self.a)) == Self.clientPublic)
    }

    @Test("the verifier, B, both sides' key and the claim signature match pycognito's", arguments: vectors.indices)
    func vector(_ index: Int) {
        let vector = Self.vectors[index]
        let salt = CognitoSRP.hexBytes(vector.salt)
        let verifier = CognitoSRP.verifier(poolSuffix: Self.poolSuffix, userID: Self.userID, password: Self.password, salt: salt)
        #expect(CognitoSRP.minimalHex(verifier) == vector.verifier)
        let serverPublic = CognitoSRP.serverPublic(verifier: verifier, b: Self.b)
        #expect(CognitoSRP.minimalHex(serverPublic) == vector.serverPublic)
        let server = CognitoSRP.serverKey(clientPublic: CognitoSRP.clientPublic(a: Self.a), serverPublic: serverPublic, b: Self.b, verifier: verifier)
        #expect(server.map(hex) == vector.key)
        let client = CognitoSRP.clientKey(
            poolSuffix: Self.poolSuffix, userID: Self.userID, password: Self.password, salt: salt, serverPublic: serverPublic, a: Self.a)
        #expect(hex(client) == vector.key)
        let signature = CognitoSRP.claimSignature(
            key: client, poolSuffix: Self.poolSuffix, userID: Self.userID, secretBlock: Array(0..<40), timestamp: "Sun Dec 6 19:05:09 UTC 2026")
        #expect(Data(signature).base64EncodedString() == vector.signature)
    }

    @Test("a wrong password derives another key")
    func wrongPassword() {
        let salt = CognitoSRP.hexBytes(Self.vectors[0].salt)
        let verifier = CognitoSRP.verifier(poolSuffix: Self.poolSuffix, userID: Self.userID, password: Self.password, salt: salt)
        let serverPublic = CognitoSRP.serverPublic(verifier: verifier, b: Self.b)
        let wrong = CognitoSRP.clientKey(
            poolSuffix: Self.poolSuffix, userID: Self.userID, password: "wrong horse battery", salt: salt, serverPublic: serverPublic, a: Self.a)
        #expect(hex(wrong) != Self.vectors[0].key)
    }

    @Test("A ≡ 0 (mod N) is refused: 0, N and 2N")
    func zeroClientPublic() {
        let prime = CognitoSRP.hexBytes(CognitoSRP.primeHex)
        let twice = BigNumber(prime).plus(BigNumber(prime)).bytes
        for value in [[0], prime, twice] {
            #expect(!CognitoSRP.isValidClientPublic(value))
            #expect(CognitoSRP.serverKey(clientPublic: value, serverPublic: [2], b: Self.b, verifier: [3]) == nil)
        }
        #expect(CognitoSRP.isValidClientPublic([2]))
    }

    @Test("Cognito's padding and minimal hex")
    func padding() {
        #expect(CognitoSRP.padded([0x00, 0x8f, 0x01]) == [0x00, 0x8f, 0x01])
        #expect(CognitoSRP.padded([0x00, 0x00, 0x7f]) == [0x7f])
        #expect(CognitoSRP.padded([0x0a, 0xbc]) == [0x0a, 0xbc])
        #expect(CognitoSRP.minimalHex([0x0a, 0xbc]) == "abc")
        #expect(CognitoSRP.minimalHex([0x00, 0x8f]) == "8f")
        #expect(CognitoSRP.parseHex("abc") == [0x0a, 0xbc])
        #expect(CognitoSRP.parseHex("xyz") == nil)
    }
}
