import Foundation
import HTTPTypes
import Hummingbird
import TesseraCore

/// Reads client credentials from a request (RFC 6749 §2.3.1): `Authorization: Basic` with
/// form-encoded id and secret (`client_secret_basic`), or `client_id` / `client_secret` body
/// parameters (`client_secret_post`, or `none` for a public client). Using both is refused.
enum ClientAuthentication {
    static func credentials(_ request: Request, parameters: [String: String]) throws -> ClientCredentials {
        if let header = request.headers.fieldValue(.authorization), let basic = AuthorizationHeader.credentials(header, scheme: "basic") {
            guard parameters["client_secret"] == nil else {
                throw OAuthError.invalidRequest("use one client authentication method, not two")
            }
            guard let decoded = Data(base64Encoded: basic),
                  let colon = decoded.firstIndex(of: UInt8(ascii: ":")),
                  let id = FormBody.decode(decoded[..<colon]),
                  let secret = FormBody.decode(decoded[decoded.index(after: colon)...])
            else { throw OAuthError.invalidClient(reason: "malformed Basic credentials") }
            if let bodyID = parameters["client_id"], bodyID != id {
                throw OAuthError.invalidRequest("client_id does not match the authenticated client")
            }
            return ClientCredentials(clientID: id, secret: secret)
        }
        guard let id = parameters["client_id"] else { throw OAuthError.invalidClient(reason: "no client credentials") }
        return ClientCredentials(clientID: id, secret: parameters["client_secret"])
    }
}
