import Foundation
import Testing
@testable import Tessera
import TesseraCore
import TesseraTestSupport

@Suite("Settings: flags > environment > config file > defaults")
struct SettingsResolverTests {
    let directory = TemporaryDirectory()

    @Test("with nothing given, the contract's defaults apply")
    func defaults() throws {
        var settings = try SettingsResolver(flags: [:], environment: [:]).resolve()
        // The log format's default follows stderr: JSON here, where the test runner reads it.
        #expect(settings.logFormat == (isatty(STDERR_FILENO) != 0 ? "text" : "json"))
        settings.logFormat = Settings().logFormat
        #expect(settings == Settings())
        #expect(settings.managementHost == "127.0.0.1" && settings.managementPort == 9464)
        #expect(settings.issuer == "http://127.0.0.1:8080")
        #expect(settings.accessTokenTTL == 900)
        #expect(settings.refreshTokenTTL == 2_592_000)
        #expect(settings.bcryptCost == 12)
        #expect(settings.httpIdleTimeout == 60)
    }

    @Test("a flag beats the environment, which beats the file, which beats the default")
    func precedence() throws {
        let file = try directory.write("tessera.yaml", "port: 7001\nhost: 0.0.0.0\naccess_token_ttl: 600\nbcrypt_cost: 11\n")
        let environment = ["TESSERA_PORT": "7002", "TESSERA_ACCESS_TOKEN_TTL": "1200.5"]
        let settings = try SettingsResolver(flags: ["port": "7003"], environment: environment, configFile: file).resolve()
        #expect(settings.port == 7003)
        #expect(settings.accessTokenTTL == 1200.5)
        #expect(settings.host == "0.0.0.0")
        #expect(settings.bcryptCost == 11)
        #expect(settings.refreshTokenTTL == 2_592_000)
        #expect(settings.issuer == "http://0.0.0.0:7003")
    }

    @Test("an explicit issuer is kept as given")
    func explicitIssuer() throws {
        let settings = try SettingsResolver(flags: ["port": "9000"], environment: ["TESSERA_ISSUER": "https://id.example.com"]).resolve()
        #expect(settings.issuer == "https://id.example.com")
    }

    @Test("values outside their range or of the wrong kind are refused, naming the setting and its origin", arguments: [
        (["TESSERA_ACCESS_TOKEN_TTL": "299"], "access_token_ttl", "TESSERA_ACCESS_TOKEN_TTL"),
        (["TESSERA_ACCESS_TOKEN_TTL": "86401"], "access_token_ttl", "TESSERA_ACCESS_TOKEN_TTL"),
        (["TESSERA_BCRYPT_COST": "9"], "bcrypt_cost", "TESSERA_BCRYPT_COST"),
        (["TESSERA_BCRYPT_COST": "17"], "bcrypt_cost", "TESSERA_BCRYPT_COST"),
        (["TESSERA_PORT": "70000"], "port", "TESSERA_PORT"),
        (["TESSERA_PORT": "eighty"], "port", "TESSERA_PORT"),
        (["TESSERA_REFRESH_TOKEN_TTL": "0"], "refresh_token_ttl", "TESSERA_REFRESH_TOKEN_TTL"),
        (["TESSERA_ISSUER": "http://x.example/"], "issuer", "TESSERA_ISSUER"),
        (["TESSERA_ISSUER": "ftp://x.example"], "issuer", "TESSERA_ISSUER"),
        (["TESSERA_ISSUER": "https://x.example?a=b"], "issuer", "TESSERA_ISSUER"),
        (["TESSERA_LOG_LEVEL": "loud"], "log_level", "TESSERA_LOG_LEVEL"),
        (["TESSERA_HTTP_IDLE_TIMEOUT": "0.5"], "http_idle_timeout", "TESSERA_HTTP_IDLE_TIMEOUT"),
    ])
    func refused(environment: [String: String], key: String, origin: String) {
        #expect {
            try SettingsResolver(flags: [:], environment: environment).resolve()
        } throws: { error in
            let message = (error as? ConfigurationError)?.description ?? ""
            return message.contains("invalid \(key)") && message.contains(origin)
        }
    }

    @Test("a config file with an unknown key, a nested value or bad YAML is refused", arguments: [
        "prot: 8080\n", "port:\n  value: 1\n", "port: [1, 2\n", "- just\n- a list\n",
    ])
    func badConfigFile(text: String) throws {
        let file = try directory.write("bad.yaml", text)
        #expect(throws: ConfigurationError.self) {
            try SettingsResolver(flags: [:], environment: [:], configFile: file).resolve()
        }
    }

    @Test("bad YAML is refused in one line that names the place and never quotes the file", arguments: [
        ("port: 1\nclients:\n  - client_id: x\n    client_secret: \"s3cret-value\n", "line 5"),
        ("port: 1\nport: 2\n", "port given more than once"),
        ("port: [1, 2\nclient_secret: s3cret-value\n", "line 2"),
        ("a: *s3cret-value\n", "line 1"),
    ])
    func badYAMLMessage(text: String, fragment: String) throws {
        let file = try directory.write("bad.yaml", text)
        #expect {
            try SettingsResolver(flags: [:], environment: [:], configFile: file).resolve()
        } throws: { error in
            let message = (error as? ConfigurationError)?.description ?? ""
            return message.contains("is not valid YAML") && message.contains(fragment)
                && !message.contains("\n") && !message.contains("s3cret")
        }
    }

    @Test("a missing config file is refused")
    func missingConfigFile() {
        #expect(throws: ConfigurationError.self) {
            try SettingsResolver(flags: [:], environment: [:], configFile: directory.path("absent.yaml")).resolve()
        }
    }
}

@Suite("Clients declared in the config file")
struct ConfiguredClientTests {
    let directory = TemporaryDirectory()

    @Test("a clients list is read with its grants, URIs, scope and audience")
    func parsed() throws {
        let file = try directory.write("tessera.yaml", """
            port: 9000
            clients:
              - client_id: web
                client_secret: "0123456789abcdef0123456789abcdef"
                redirect_uris: [https://app.example.com/callback, http://127.0.0.1:5000/cb]
                post_logout_redirect_uris: https://app.example.com/
                grants: [authorization_code, refresh_token]
                scope: openid email offline_access
                audience: https://api.example.com
              - client_id: spa
                grants: [authorization_code]
                redirect_uris: [https://spa.example.com/cb]
            """)
        let settings = try SettingsResolver(flags: [:], environment: [:], configFile: file).resolve()
        #expect(settings.port == 9000)
        #expect(settings.clients.map(\.id) == ["web", "spa"])
        let web = settings.clients[0]
        #expect(web.secret == "0123456789abcdef0123456789abcdef")
        #expect(web.grants == [.authorizationCode, .refreshToken])
        #expect(web.redirectURIs == ["https://app.example.com/callback", "http://127.0.0.1:5000/cb"])
        #expect(web.postLogoutRedirectURIs == ["https://app.example.com/"])
        #expect(web.scope.description == "openid email offline_access")
        #expect(web.audience == "https://api.example.com")
        #expect(settings.clients[1].secret == nil)
    }

    @Test("bad client declarations are refused", arguments: [
        "clients:\n  - client_id: a\n    client_secret: short\n    grants: [client_credentials]\n",
        "clients:\n  - client_id: a\n    grants: [client_credentials]\n",
        "clients:\n  - client_id: a\n    grants: [implicit]\n",
        "clients:\n  - client_id: a\n    grants: [authorization_code]\n    redirect_uris: [http://app.example.com/cb]\n",
        "clients:\n  - client_id: a\n    grants: [authorization_code]\n    redirect_uris: [https://app.example.com/cb#frag]\n",
        "clients:\n  - client_id: a\n    grants: [authorization_code]\n",
        "clients:\n  - client_id: tessera\n    grants: [password]\n",
        "clients:\n  - client_id: a\n    grants: [password]\n    colour: blue\n",
        "clients:\n  - client_id: a\n    grants: [password]\n  - client_id: a\n    grants: [password]\n",
        "clients: web\n",
    ])
    func refused(text: String) throws {
        let file = try directory.write("bad.yaml", text)
        #expect(throws: ConfigurationError.self) { try SettingsResolver(flags: [:], environment: [:], configFile: file).resolve() }
    }
}
