import Foundation
import Logging
import TesseraCognito
import TesseraCore
import TesseraCrypto
import TesseraServer

extension TesseraRequestContext: CognitoRequestContext {}

/// Builds the Cognito-compatible API (contract §11) over a server's services, when
/// `cognito_pool_id` turns it on.
enum CognitoRuntime {
    /// The keeper of SRP verifiers, when the API and `cognito_srp` are on: it must be handed to
    /// the services before they are built, so that they tell it of every password.
    static func verifiers(_ settings: Settings, storage: any Storage, logger: Logger) async throws -> SRPVerifiers? {
        guard let poolID = settings.cognitoPoolID, settings.cognitoSRP else { return nil }
        return SRPVerifiers(
            store: storage, sealer: try await KeyCustody(settings, storage: storage).secretSealer(), crypto: OpenSSLPrimitives(), poolID: poolID,
            logger: logger)
    }

    static func api(_ settings: Settings, dependencies: Dependencies, verifiers: SRPVerifiers?, logger: Logger) async throws -> CognitoAPI? {
        guard settings.cognitoPoolID != nil else { return nil }
        let sealer = try await KeyCustody(settings, storage: dependencies.storage).secretSealer()
        return CognitoAPI(
            CognitoAPI.Services(
                settings: settings, accounts: dependencies.accounts, lifecycle: dependencies.lifecycle,
                groups: GroupService(store: dependencies.storage, now: dependencies.now), store: dependencies.storage, signer: dependencies.keys,
                keys: dependencies.keys, sealer: sealer, crypto: dependencies.crypto),
            verifiers: verifiers)
    }
}
