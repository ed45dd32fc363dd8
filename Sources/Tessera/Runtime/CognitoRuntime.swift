import Foundation
import Logging
import TesseraCognito
import TesseraCore
import TesseraServer

extension TesseraRequestContext: CognitoRequestContext {}

/// Builds the Cognito-compatible API (contract §11) over a server's services, when
/// `cognito_pool_id` turns it on.
enum CognitoRuntime {
    static func api(_ settings: Settings, dependencies: Dependencies, logger: Logger) async throws -> CognitoAPI? {
        guard settings.cognitoPoolID != nil else { return nil }
        let sealer = try await KeyCustody(settings, storage: dependencies.storage).secretSealer()
        return CognitoAPI(CognitoAPI.Services(
            settings: settings, accounts: dependencies.accounts, lifecycle: dependencies.lifecycle,
            groups: GroupService(store: dependencies.storage, now: dependencies.now), users: dependencies.storage, signer: dependencies.keys,
            keys: dependencies.keys, sealer: sealer, crypto: dependencies.crypto, logger: logger))
    }
}
