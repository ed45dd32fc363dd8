// The hooks example of contract §7: serves exactly like `tessera serve` (same flags,
// environment and defaults) with one pre-sign-up and one post-sign-up hook registered, and a
// lazy migration hook (contract §11.7) when `EXAMPLE_LEGACY_USERS` names a file.
import Foundation
import Tessera

let environment = ProcessInfo.processInfo.environment
await ServeCommand.main(hooks: Hooks(
    preSignUp: [AllowedDomains(environment: environment)],
    postSignUp: [AppendUserIDToLog(environment: environment)],
    userMigration: LegacyUserFile(environment: environment)))
