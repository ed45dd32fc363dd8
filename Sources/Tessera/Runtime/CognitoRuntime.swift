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

    /// `hooks` with the built-in `migration_cognito` registered when its settings are given.
    /// Refuses settings that are incomplete, and a server that registers a migration hook of
    /// its own as well (one old system at a time).
    static func withMigration(_ hooks: Hooks, settings: Settings) throws -> Hooks {
        guard let upstream = settings.migrationCognito else { return hooks }
        guard hooks.userMigration == nil else {
            throw ConfigurationError("migration_cognito_pool_id is set and a UserMigrationHook is registered: use one of them")
        }
        var hooks = hooks
        do {
            hooks.userMigration = try CognitoMigrationHook(settings: upstream, crypto: OpenSSLPrimitives(), timeout: settings.hookTimeout)
        } catch let failure as CognitoMigrationHook.UpstreamFailure {
            throw ConfigurationError(failure.description)
        }
        return hooks
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
