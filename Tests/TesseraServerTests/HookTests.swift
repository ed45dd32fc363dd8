import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Synchronization
import Testing
import TesseraCore
import TesseraServer
import TesseraSQLite

/// A post-sign-up hook that records the users it saw and fails while told to.
final class RecordingHook: PostSignUpHook {
    let name: String
    private let state = Mutex((seen: [String](), failing: false))

    init(name: String = "recorder", failing: Bool = false) {
        self.name = name
        state.withLock { $0.failing = failing }
    }

    var seen: [String] { state.withLock { $0.seen } }
    func setFailing(_ failing: Bool) { state.withLock { $0.failing = failing } }

    struct Failure: Error {}

    func afterSignUp(_ user: SignedUpUser) async throws {
        try state.withLock { state in
            if state.failing { throw Failure() }
            state.seen.append(user.id)
        }
    }
}

struct Rejecting: PreSignUpHook {
    func beforeSignUp(_ attempt: SignUpAttempt) async throws -> PreSignUpDecision {
        attempt.email.hasSuffix("@blocked.example") ? .reject(reason: "this domain may not sign up") : .allow(attempt)
    }
}

struct Throwing: PreSignUpHook {
    struct Broken: Error {}
    func beforeSignUp(_ attempt: SignUpAttempt) async throws -> PreSignUpDecision { throw Broken() }
}

/// A pre-sign-up hook that ignores cancellation and returns only when the test releases it
/// (or after a minute, so a broken timeout fails the test instead of hanging it).
final class Stalling: PreSignUpHook {
    private let state = Mutex((released: false, returned: false))

    /// Whether the hook has returned: the caller must have been answered before it did.
    var returned: Bool { state.withLock { $0.returned } }
    func release() { state.withLock { $0.released = true } }

    func beforeSignUp(_ attempt: SignUpAttempt) async throws -> PreSignUpDecision {
        let giveUp = Date() + 60
        while !state.withLock({ $0.released }), Date() < giveUp { try? await Task.sleep(for: .milliseconds(20)) }
        state.withLock { $0.returned = true }
        return .allow(attempt)
    }
}

struct Tagging: PreSignUpHook {
    let tag: String
    func beforeSignUp(_ attempt: SignUpAttempt) async throws -> PreSignUpDecision {
        var adjusted = attempt
        adjusted.attributes["trail", default: ""] += tag
        adjusted.confirmed = false
        return .allow(adjusted)
    }
}

@Suite("Sign-up hooks")
struct HookTests {
    @Test("a pre-sign-up rejection is 403 signup_rejected with its reason, and stores nothing")
    func rejection() async throws {
        let post = RecordingHook()
        let server = try await TestServer(hooks: Hooks(preSignUp: [Rejecting()], postSignUp: [post]))
        try await server.test { client in
            let response = try await client.signUp("eve@blocked.example")
            #expect(response.status == .forbidden)
            #expect(response.errorCode == "signup_rejected")
            #expect(response.json["error_description"] as? String == "this domain may not sign up")
            #expect(try await server.storage.user(email: "eve@blocked.example") == nil)
            #expect(try await server.storage.claimHookRuns(now: .distantFuture, limit: 10, lease: Lease(holder: "test", until: .distantFuture)).isEmpty)
            #expect(try await client.signUp("eve@allowed.example").status == .created)
        }
    }

    @Test("a throwing or stalling pre-sign-up hook is 503 hook_failed and stores nothing", arguments: [0, 1])
    func failingPreHook(which: Int) async throws {
        let stalling = Stalling()
        let hook: any PreSignUpHook = which == 0 ? Throwing() : stalling
        let server = try await TestServer(hooks: Hooks(preSignUp: [hook])) { $0.hookTimeout = 0.2 }
        try await server.test { client in
            let response = try await client.signUp("fay@example.com")
            #expect(response.status == .serviceUnavailable)
            #expect(response.errorCode == "hook_failed")
            // The timeout answered the caller while the hook, deaf to cancellation, still ran.
            #expect(!stalling.returned)
            stalling.release()
            #expect(try await server.storage.user(email: "fay@example.com") == nil)
        }
    }

    @Test("pre-sign-up hooks run in order, adjust attributes and can leave the account unconfirmed")
    func adjustments() async throws {
        let server = try await TestServer(hooks: Hooks(preSignUp: [Tagging(tag: "a"), Tagging(tag: "b")]))
        try await server.test { client in
            let response = try await client.signUp("gus@example.com", attributes: ["trail": ">"])
            #expect(response.status == .created)
            #expect(response.json["status"] as? String == "unconfirmed")
            let user = try #require(try await server.storage.user(email: "gus@example.com"))
            #expect(user.attributes == ["trail": ">ab"])
            #expect(user.status == .unconfirmed)
        }
    }

    @Test("post-sign-up hooks run after commit, each in registration order")
    func postHooksRun() async throws {
        let first = RecordingHook(name: "first")
        let second = RecordingHook(name: "second")
        let server = try await TestServer(hooks: Hooks(postSignUp: [first, second]))
        let userID = try await server.test { client in try #require(try await client.signUp("hal@example.com").json["user_id"] as? String) }
        #expect(try await server.dependencies.hookRunner.runDue() == 2)
        #expect(first.seen == [userID])
        #expect(second.seen == [userID])
        #expect(try await server.dependencies.hookRunner.runDue() == 0)
    }

    @Test("a failing post-sign-up hook does not undo the sign-up; it is retried with doubling backoff, then dead-lettered")
    func retriesAndDeadLetter() async throws {
        let hook = RecordingHook(failing: true)
        let server = try await TestServer(hooks: Hooks(postSignUp: [hook])) {
            $0.hookMaxAttempts = 3
            $0.hookRetryBaseDelay = 10
        }
        let response = try await server.test { client in try await client.signUp("ida@example.com") }
        #expect(response.status == .created)
        let runner = server.dependencies.hookRunner
        #expect(try await runner.runDue() == 1)
        #expect(try await server.storage.nextHookRunDue() == server.clock.now + 10)
        server.clock.advance(by: 9)
        #expect(try await runner.runDue() == 0)
        server.clock.advance(by: 1)
        #expect(try await runner.runDue() == 1)
        #expect(try await server.storage.nextHookRunDue() == server.clock.now + 20)
        server.clock.advance(by: 20)
        #expect(try await runner.runDue() == 1)
        #expect(try await server.storage.nextHookRunDue() == nil)
        let dead = try await server.storage.deadHookRuns()
        #expect(dead.count == 1)
        #expect(dead.first?.attempts == 3)
        #expect(dead.first?.hook == "recorder")
        #expect(dead.first?.lastError?.contains("Failure") == true)
        #expect(hook.seen.isEmpty)
    }

    @Test("a pending post-sign-up run survives a restart and runs on the next server")
    func survivesRestart() async throws {
        let failing = RecordingHook(failing: true)
        let server = try await TestServer(hooks: Hooks(postSignUp: [failing])) { $0.hookRetryBaseDelay = 5 }
        let userID = try await server.test { client in try #require(try await client.signUp("jon@example.com").json["user_id"] as? String) }
        #expect(try await server.dependencies.hookRunner.runDue() == 1)

        let healthy = RecordingHook()
        let restarted = try await server.restarted(hooks: Hooks(postSignUp: [healthy]))
        #expect(try await restarted.dependencies.hookRunner.runDue() == 0)
        restarted.clock.advance(by: 5)
        #expect(try await restarted.dependencies.hookRunner.runDue() == 1)
        #expect(healthy.seen == [userID])
        #expect(try await restarted.storage.nextHookRunDue() == nil)
    }

    @Test("the application's hook runner service is woken by a sign-up")
    func runnerWakesOnSignUp() async throws {
        let hook = RecordingHook()
        let server = try await TestServer(hooks: Hooks(postSignUp: [hook]))
        try await server.test(runningHooks: true) { client in
            // Let the runner service reach its idle wait (5 s) first: only the nudge can wake it in time.
            try await Task.sleep(for: .milliseconds(200))
            let userID = try #require(try await client.signUp("kay@example.com").json["user_id"] as? String)
            for _ in 0..<200 where hook.seen.isEmpty { try await Task.sleep(for: .milliseconds(20)) }
            #expect(hook.seen == [userID])
        }
    }
}
