// The hooks example of contract §7: serves exactly like `tessera serve` (same flags,
// environment and defaults) with one pre-sign-up and one post-sign-up hook registered.
import Foundation
import Tessera

let environment = ProcessInfo.processInfo.environment
await ServeCommand.main(hooks: Hooks(
    preSignUp: [AllowedDomains(environment: environment)],
    postSignUp: [AppendUserIDToLog(environment: environment)]))
