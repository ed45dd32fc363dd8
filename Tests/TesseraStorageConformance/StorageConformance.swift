import Foundation
import Synchronization
import Testing
import TesseraCore

/// A storage backend under test: it makes fresh, empty, migrated databases, and further
/// handles (connection pools) on one of them, as a second process or instance would hold.
///
/// The conformance suite (``ConformanceCase``) runs unchanged against every backend; each
/// backend's test target has one `@Test(arguments: ConformanceCase.allCases)` that calls
/// ``ConformanceCase/run(on:)``. No `@Test` lives in this library: test targets link into one
/// binary, where it would run once rather than once per backend.
public protocol StorageBackend: Sendable {
    associatedtype Handle: Storage
    /// A new empty database, migrated, and a first handle to it.
    func makeStorage() async throws -> Handle
    /// Another handle on the database `handle` opened: its own connections, as another
    /// instance (or the admin CLI) has.
    func anotherHandle(on handle: Handle) async throws -> Handle
    /// Lets go of a handle's connections once a case is done with it.
    func close(_ handle: Handle) async
}

extension StorageBackend {
    public func close(_ handle: Handle) async {}
}

/// The behaviours every storage backend must show, one case each, each on a fresh database.
public enum ConformanceCase: String, CaseIterable, Sendable, CustomTestStringConvertible {
    case usersAndTheirErrors
    case rotationDecisionTable
    case concurrentRotationsAcrossHandles
    case rotationRacingGlobalSignOut
    case revocationsVisibleAcrossHandles
    case eventSequenceAcrossHandles
    case deliveryClaimsAcrossHandles
    case codeSpentOnceAcrossHandles
    case verifiedAddressHasOneOwnerAcrossHandles
    case authorizationCodeRedeemedOnceAcrossHandles
    case clientChangesVisibleAcrossHandles
    case hookRunsCommitWithTheirUser
    case eventRedactionAndRetention
    case webhookEndpointsAndSecrets
    case outboxClaimsAcrossHandles
    case clientRegistryAndSync
    case sessionsAndAudit
    case mailOutboxLifecycle
    case signingKeyLifecycle
    case accountAddresses
    case groupsAndMembers
    case cognitoStoresAcrossHandles
    case importsAcrossHandles

    public var testDescription: String { rawValue }

    public func run<Backend: StorageBackend>(on backend: Backend) async throws {
        let store = try await backend.makeStorage()
        let others = Mutex<[Backend.Handle]>([])
        let cases = Cases(store: store, makeHandle: {
            let handle = try await backend.anotherHandle(on: store)
            others.withLock { $0.append(handle) }
            return handle
        })
        do {
            try await run(cases)
        } catch {
            for handle in others.withLock({ $0 }) { await backend.close(handle) }
            await backend.close(store)
            throw error
        }
        for handle in others.withLock({ $0 }) { await backend.close(handle) }
        await backend.close(store)
    }

    private func run<Handle: Storage>(_ cases: Cases<Handle>) async throws {
        switch self {
        case .usersAndTheirErrors: try await cases.usersAndTheirErrors()
        case .rotationDecisionTable: try await cases.rotationDecisionTable()
        case .concurrentRotationsAcrossHandles: try await cases.concurrentRotationsAcrossHandles()
        case .rotationRacingGlobalSignOut: try await cases.rotationRacingGlobalSignOut()
        case .revocationsVisibleAcrossHandles: try await cases.revocationsVisibleAcrossHandles()
        case .eventSequenceAcrossHandles: try await cases.eventSequenceAcrossHandles()
        case .deliveryClaimsAcrossHandles: try await cases.deliveryClaimsAcrossHandles()
        case .codeSpentOnceAcrossHandles: try await cases.codeSpentOnceAcrossHandles()
        case .verifiedAddressHasOneOwnerAcrossHandles: try await cases.verifiedAddressHasOneOwnerAcrossHandles()
        case .authorizationCodeRedeemedOnceAcrossHandles: try await cases.authorizationCodeRedeemedOnceAcrossHandles()
        case .clientChangesVisibleAcrossHandles: try await cases.clientChangesVisibleAcrossHandles()
        case .hookRunsCommitWithTheirUser: try await cases.hookRunsCommitWithTheirUser()
        case .eventRedactionAndRetention: try await cases.eventRedactionAndRetention()
        case .webhookEndpointsAndSecrets: try await cases.webhookEndpointsAndSecrets()
        case .outboxClaimsAcrossHandles: try await cases.outboxClaimsAcrossHandles()
        case .clientRegistryAndSync: try await cases.clientRegistryAndSync()
        case .sessionsAndAudit: try await cases.sessionsAndAudit()
        case .mailOutboxLifecycle: try await cases.mailOutboxLifecycle()
        case .signingKeyLifecycle: try await cases.signingKeyLifecycle()
        case .accountAddresses: try await cases.accountAddresses()
        case .groupsAndMembers: try await cases.groupsAndMembers()
        case .cognitoStoresAcrossHandles: try await cases.cognitoStoresAcrossHandles()
        case .importsAcrossHandles: try await cases.importsAcrossHandles()
        }
    }
}

/// The cases' bodies, on one backend's fresh database.
struct Cases<Handle: Storage>: Sendable {
    let store: Handle
    let makeHandle: @Sendable () async throws -> Handle
    let now = Date(timeIntervalSince1970: 1_800_000_000)

    func user(_ id: String, email: String? = nil, status: UserStatus = .active) -> User {
        User(
            id: id, email: email ?? "\(id)@example.com", emailVerified: false, passwordHash: "$2b$10$notarealhashnotarealhashnotarealhashnotarealhashnotar",
            status: status, attributes: [:], createdAt: now, updatedAt: now)
    }

    func hash(_ name: String) -> TokenHash {
        TokenHash(bytes: Array(name.utf8) + [UInt8](repeating: 0, count: max(0, 32 - name.utf8.count)))
    }

    func family(_ id: String, user: String, client: String = "tessera", expiresIn: TimeInterval = 3600) -> RefreshTokenFamily {
        RefreshTokenFamily(id: id, userID: user, clientID: client, scope: "openid", authTime: now, createdAt: now, expiresAt: now + expiresIn)
    }

    func rotate(_ store: Handle, _ presented: String, to successor: String, client: String? = nil, at time: Date? = nil) async throws -> RotationOutcome {
        try await store.rotate(hash(presented), successor: hash(successor), clientID: client, now: time ?? now) { $0 }
    }

    func events(_ store: Handle, subject: String? = nil) async throws -> [StoredEvent] {
        guard case .events(let events, _) = try await store.events(EventQuery(limit: 500, subject: subject)) else {
            Issue.record("the cursor expired")
            return []
        }
        return events
    }

    // MARK: Cases

    func usersAndTheirErrors() async throws {
        try await store.createUser(user("u1", email: "Ann@Example.com"), postSignUpHooks: [], verification: nil, now: now)
        #expect(try await store.user(id: "u1")?.email == "Ann@Example.com")
        #expect(try await store.user(email: "ann@example.com")?.id == "u1", "found case-insensitively")
        #expect(try await store.user(id: "nobody") == nil)
        #expect(try await store.user(email: "nobody@example.com") == nil)
        await #expect(throws: StorageError.alreadyExists) {
            try await store.createUser(user("u2", email: "ANN@example.com"), postSignUpHooks: [], verification: nil, now: now)
        }
        await #expect(throws: StorageError.alreadyExists) {
            try await store.createUser(user("u1", email: "other@example.com"), postSignUpHooks: [], verification: nil, now: now)
        }
        await #expect(throws: StorageError.notFound) { try await store.setStatus(userID: "nobody", .disabled, now: now) }
        await #expect(throws: StorageError.notFound) { try await store.revokeAllTokens(userID: "nobody", now: now) }
        await #expect(throws: StorageError.notFound) { try await store.deleteUser(id: "nobody", farewell: nil, now: now) }
        #expect(try await events(store).map(\.type) == [.userCreated], "failed writes leave no event")
    }

    func rotationDecisionTable() async throws {
        try await store.createUser(user("u1"), postSignUpHooks: [], verification: nil, now: now)
        try await store.createUser(user("u2"), postSignUpHooks: [], verification: nil, now: now)
        try await store.createFamily(family("f1", user: "u1"), firstToken: hash("t1"), now: now)
        guard case .rotated(let rotated, let owner) = try await rotate(store, "t1", to: "t2") else {
            Issue.record("a current token rotates")
            return
        }
        #expect(rotated.id == "f1" && owner.id == "u1")
        #expect(try await rotate(store, "t1", to: "t3") == .reused(familyID: "f1"), "a used token is reuse")
        #expect(try await rotate(store, "t2", to: "t4") == .refused(reason: "family revoked"), "reuse killed the family")
        #expect(try await rotate(store, "unknown", to: "t5") == .refused(reason: "unknown token"))
        // Another client's token is refused and left as it was.
        try await store.createFamily(family("f2", user: "u2", client: "web"), firstToken: hash("w1"), now: now)
        #expect(try await rotate(store, "w1", to: "w2", client: "other") == .refused(reason: "token of another client"))
        guard case .rotated = try await rotate(store, "w1", to: "w2", client: "web") else {
            Issue.record("the refused presentation changed nothing")
            return
        }
        try await store.createFamily(family("f3", user: "u2", expiresIn: 10), firstToken: hash("e1"), now: now)
        #expect(try await rotate(store, "e1", to: "e2", at: now + 11) == .refused(reason: "family expired"))
        try await store.createFamily(family("f4", user: "u2"), firstToken: hash("d1"), now: now)
        try await store.setStatus(userID: "u2", .disabled, now: now)
        if case .rotated = try await rotate(store, "d1", to: "d2") { Issue.record("a disabled user's token does not rotate") }
        #expect(try await events(store, subject: "u1").map(\.type) == [.userCreated, .refreshTokenReuseDetected])
    }

    func concurrentRotationsAcrossHandles() async throws {
        let other = try await makeHandle()
        for round in 0..<3 {
            let userID = "u\(round)"
            try await store.createUser(user(userID), postSignUpHooks: [], verification: nil, now: now)
            try await store.createFamily(family("f\(round)", user: userID), firstToken: hash("r\(round)"), now: now)
            let outcomes = try await withThrowingTaskGroup(of: RotationOutcome.self) { group in
                for index in 0..<64 {
                    let handle = index.isMultiple(of: 2) ? store : other
                    group.addTask { try await rotate(handle, "r\(round)", to: "r\(round)-\(index)") }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            let winners = outcomes.filter { if case .rotated = $0 { true } else { false } }
            #expect(winners.count == 1, "exactly one of 64 presentations over two handles rotates")
            #expect(outcomes.count == 64, "no presentation failed with an error")
        }
    }

    func rotationRacingGlobalSignOut() async throws {
        let other = try await makeHandle()
        for round in 0..<10 {
            let userID = "u\(round)"
            try await store.createUser(user(userID), postSignUpHooks: [], verification: nil, now: now)
            try await store.createFamily(family("f\(round)", user: userID), firstToken: hash("s\(round)"), now: now)
            async let rotation = rotate(store, "s\(round)", to: "s\(round)-next")
            async let signOut: Void = other.revokeAllTokens(userID: userID, now: now)
            let outcome = try await rotation
            try await signOut
            // Whichever came first, the family ends revoked: the successor never rotates.
            if case .rotated = outcome {
                #expect(try await rotate(store, "s\(round)-next", to: "s\(round)-after") == .refused(reason: "family revoked"))
            } else {
                #expect(outcome == .refused(reason: "family revoked"))
            }
        }
    }

    func revocationsVisibleAcrossHandles() async throws {
        let other = try await makeHandle()
        try await store.createUser(user("u1"), postSignUpHooks: [], verification: nil, now: now)
        // Read through the other handle first, so that a cache there would hold the old answer.
        #expect(try await other.accessTokenStanding(jti: "j1", userID: "u1", clientID: "tessera").jtiRevoked == false)
        try await store.revokeAccessToken(jti: "j1", expiresAt: now + 900, now: now)
        try await store.setStatus(userID: "u1", .disabled, now: now)
        var standing = try await other.accessTokenStanding(jti: "j1", userID: "u1", clientID: "tessera")
        for _ in 0..<100 where !(standing.jtiRevoked && standing.user?.status == .disabled) {
            try await Task.sleep(for: .milliseconds(10))
            standing = try await other.accessTokenStanding(jti: "j1", userID: "u1", clientID: "tessera")
        }
        #expect(standing.jtiRevoked && standing.user?.status == .disabled, "seen by the other handle within a second")
    }

    func eventSequenceAcrossHandles() async throws {
        let other = try await makeHandle()
        try await store.createUser(user("u1"), postSignUpHooks: [], verification: nil, now: now)
        try await withThrowingTaskGroup(of: Void.self) { group in
            for index in 0..<32 {
                let handle = index.isMultiple(of: 2) ? store : other
                group.addTask { try await handle.revokeAllTokens(userID: "u1", now: now) }
            }
            try await group.waitForAll()
        }
        let logged = try await events(other, subject: "u1")
        #expect(logged.map(\.sequence) == (1...33).map(Int64.init), "one gap-free sequence whichever handle wrote")
        #expect(logged.map(\.position) == logged.map(\.position).sorted())
        #expect(Set(logged.map(\.id)).count == 33)
    }

    func deliveryClaimsAcrossHandles() async throws {
        let other = try await makeHandle()
        try await store.createEndpoint(
            WebhookEndpoint(id: "whe_1", url: "https://hooks.example.com/", description: nil, eventTypes: nil, createdAt: now), secret: [1], now: now)
        for index in 0..<10 {
            try await store.createUser(user("u\(index)"), postSignUpHooks: [], verification: nil, now: now)
            try await other.revokeAllTokens(userID: "u\(index)", now: now)
        }
        let claimed = try await withThrowingTaskGroup(of: [Int64].self) { group in
            for index in 0..<8 {
                let handle = index.isMultiple(of: 2) ? store : other
                group.addTask {
                    var mine: [Int64] = []
                    while true {
                        let claims = try await handle.claimDeliveries(limit: 3, leaseUntil: now + 60, now: now)
                        if claims.isEmpty { return mine }
                        for claim in claims {
                            mine.append(claim.deliveryID)
                            try await handle.finishDelivery(claim, result: .delivered(status: 204), disableAfter: 3600, now: now)
                        }
                    }
                }
            }
            return try await group.reduce(into: []) { $0 += $1 }
        }
        #expect(claimed.count == Set(claimed).count, "no delivery claimed twice")
        // Lanes left leased by a sender that vanished are claimed again once the lease ends.
        try await store.createUser(user("late"), postSignUpHooks: [], verification: nil, now: now)
        let lost = try await store.claimDeliveries(limit: 10, leaseUntil: now + 30, now: now)
        #expect(lost.count == 1)
        #expect(try await other.claimDeliveries(limit: 10, leaseUntil: now + 90, now: now + 10).isEmpty)
        #expect(try await other.claimDeliveries(limit: 10, leaseUntil: now + 90, now: now + 31).map(\.deliveryID) == lost.map(\.deliveryID))
    }

    /// A code for `user`'s `purpose` at `emailKey`, with its mail; `secret` stands for its hash.
    func code(_ user: User, _ purpose: CodePurpose, _ emailKey: String, secret: String) -> NewCode {
        NewCode(
            userID: user.id, purpose: purpose, emailKey: emailKey, hash: Array(secret.utf8), expiresAt: now + 600,
            mail: MailRequest(
                id: "m-\(user.id)-\(secret)", userID: user.id, recipient: emailKey, template: purpose == .addEmail ? .addEmailCode : .verificationCode,
                locale: nil, variables: [:], codeExpiresAt: now + 600))
    }

    func codeSpentOnceAcrossHandles() async throws {
        let other = try await makeHandle()
        let limits = CodeSendLimits(resendInterval: 0, maxPerHour: 100)
        for round in 0..<5 {
            let owner = user("c\(round)")
            try await store.createUser(owner, postSignUpHooks: [], verification: nil, now: now)
            #expect(try await store.issueCode(emailKey: owner.email, purpose: .verifyEmail, limits: limits, now: now) { found, key in
                code(found, .verifyEmail, key, secret: "s\(round)")
            })
            let spends = try await withThrowingTaskGroup(of: CodeSpend.self) { group in
                for index in 0..<16 {
                    let handle = index.isMultiple(of: 2) ? store : other
                    group.addTask {
                        try await handle.spendCode(
                            emailKey: owner.email, userID: nil, purpose: .verifyEmail, maxAttempts: 5, now: now,
                            matches: { _, stored in stored.hash == Array("s\(round)".utf8) }, effect: .verifyEmail)
                    }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(spends.filter { if case .spent = $0 { true } else { false } }.count == 1, "a code is spent once, whichever handle")
            #expect(try await events(other, subject: owner.id).map(\.type) == [.userCreated, .emailVerified])
        }
    }

    func verifiedAddressHasOneOwnerAcrossHandles() async throws {
        let other = try await makeHandle()
        let limits = CodeSendLimits(resendInterval: 0, maxPerHour: 100)
        for round in 0..<5 {
            let address = "shared\(round)@example.com"
            let owners = [user("a\(round)"), user("b\(round)")]
            for owner in owners {
                try await store.createUser(owner, postSignUpHooks: [], verification: nil, now: now)
                _ = try await store.addEmail(userID: owner.id, email: address, maxAddresses: 5, limits: limits, now: now) { found in
                    code(found, .addEmail, address, secret: "k-\(found.id)")
                }
            }
            let results = await withTaskGroup(of: Result<CodeSpend, any Error>.self) { group in
                for (index, owner) in owners.enumerated() {
                    let handle = index == 0 ? store : other
                    group.addTask {
                        do {
                            return .success(try await handle.spendCode(
                                emailKey: address, userID: owner.id, purpose: .addEmail, maxAttempts: 5, now: now,
                                matches: { found, stored in stored.hash == Array("k-\(found.id)".utf8) },
                                effect: .verifyAddedEmail(notice: MailRequest(
                                    id: "n-\(owner.id)", userID: owner.id, recipient: address, template: .emailAdded, locale: nil,
                                    variables: [:], codeExpiresAt: nil))))
                        } catch {
                            return .failure(error)
                        }
                    }
                }
                return await group.reduce(into: []) { $0.append($1) }
            }
            let won = results.filter { if case .success(.spent) = $0 { true } else { false } }
            let taken = results.filter { if case .failure(StorageError.alreadyExists) = $0 { true } else { false } }
            #expect(won.count == 1 && taken.count == 1, "one account owns a verified address: \(results)")
        }
    }

    func authorizationCodeRedeemedOnceAcrossHandles() async throws {
        let other = try await makeHandle()
        try await store.createUser(user("u1"), postSignUpHooks: [], verification: nil, now: now)
        for round in 0..<5 {
            let record = AuthorizationCodeRecord(
                clientID: "web", userID: "u1", redirectURI: "https://app.example.com/cb", scope: "openid offline_access", nonce: nil,
                codeChallenge: "challenge", authTime: now, sessionID: nil, expiresAt: now + 60)
            try await store.createCode(hash("code\(round)"), record, now: now)
            let redemptions = try await withThrowingTaskGroup(of: CodeRedemption.self) { group in
                for index in 0..<16 {
                    let handle = index.isMultiple(of: 2) ? store : other
                    group.addTask {
                        try await handle.redeemCode(hash("code\(round)"), clientID: "web", decide: { _, _ in
                            .issue(PlannedIssue(
                                accessJTI: "jti-\(round)-\(index)", accessExpiresAt: now + 900,
                                family: family("fam-\(round)-\(index)", user: "u1", client: "web"), firstRefreshToken: hash("rt-\(round)-\(index)")))
                        }, now: now)
                    }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            let winners = redemptions.compactMap { if case .redeemed = $0 { $0 } else { nil } }
            #expect(winners.count == 1, "a code is redeemed once over two handles")
            #expect(redemptions.filter { $0 == .replayed }.count == 15)
            // The replays revoked what the one redemption issued.
            let outcomes = try await withThrowingTaskGroup(of: RotationOutcome.self) { group in
                for index in 0..<16 {
                    group.addTask { try await rotate(store, "rt-\(round)-\(index)", to: "rt-\(round)-\(index)-next", client: "web") }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(!outcomes.contains { if case .rotated = $0 { true } else { false } }, "the issued family is revoked by the replays")
        }
    }

    func clientChangesVisibleAcrossHandles() async throws {
        let other = try await makeHandle()
        let client = Client(id: "web", name: "Web", secretHash: hash("secret"), grants: [.clientCredentials], scope: Scope(["api"]), createdAt: now)
        try await store.createClient(client, now: now)
        await #expect(throws: StorageError.alreadyExists) { try await store.createClient(client, now: now) }
        #expect(try await other.client(id: "web")?.name == "Web", "read (and remembered) through the other handle")
        try await store.replaceClientSecret(id: "web", hash: hash("rotated"), sealed: nil, now: now)
        var seen = try await other.client(id: "web")
        for _ in 0..<100 where seen?.secretHash != hash("rotated") {
            try await Task.sleep(for: .milliseconds(10))
            seen = try await other.client(id: "web")
        }
        #expect(seen?.secretHash == hash("rotated"), "a new secret is seen by the other handle within a second")
        // A change is checked against the client as it is inside its transaction: of 8 changes
        // made from one read over two handles, one is written and 7 are refused (5 rounds).
        for round in 0..<5 {
            let read = try #require(try await store.client(id: "web"))
            let outcomes = try await withThrowingTaskGroup(of: ClientUpdateOutcome.self) { group in
                for writer in 0..<8 {
                    let handle = writer.isMultiple(of: 2) ? store : other
                    group.addTask {
                        try await handle.updateClient(id: "web", now: now + Double(round)) { current in
                            guard current.name == read.name else { return nil }
                            var changed = current
                            changed.name = "Web \(round).\(writer)"
                            changed.scope = Scope(["api", "w\(writer)"])
                            return changed
                        }
                    }
                }
                var outcomes: [ClientUpdateOutcome] = []
                for try await outcome in group { outcomes.append(outcome) }
                return outcomes
            }
            let written = outcomes.compactMap { if case .updated(let client) = $0 { client } else { nil } }
            #expect(written.count == 1, "round \(round): one change wins")
            let refused = outcomes.compactMap { if case .refused(let client) = $0 { client } else { nil } }
            #expect(refused.count == 7 && refused.allSatisfy { $0.name == written.first?.name }, "round \(round): the rest see the winner")
            let stored = try #require(try await store.client(id: "web"))
            #expect(stored.name == written.first?.name && stored.scope == written.first?.scope && stored.secretHash == hash("rotated"))
        }
        let renamed = try await store.client(id: "web")?.name
        var seenRename = try await other.client(id: "web")
        for _ in 0..<100 where seenRename?.name != renamed {
            try await Task.sleep(for: .milliseconds(10))
            seenRename = try await other.client(id: "web")
        }
        #expect(seenRename?.name == renamed, "a change is seen by the other handle within a second")
        await #expect(throws: StorageError.alreadyExists) { try await store.updateClient(id: "web", now: now) { _ in throw StorageError.alreadyExists } }
        #expect(try await store.client(id: "web")?.name == renamed, "a change that throws writes nothing")
        if case .notFound = try await store.updateClient(id: "nobody", now: now, { $0 }) {} else { Issue.record("an unknown client is notFound") }
        try await store.deleteClient(id: "web", now: now)
        var gone = try await other.client(id: "web")
        for _ in 0..<100 where gone != nil {
            try await Task.sleep(for: .milliseconds(10))
            gone = try await other.client(id: "web")
        }
        #expect(gone == nil, "a deleted client is gone for the other handle within a second")
        await #expect(throws: StorageError.notFound) { try await store.deleteClient(id: "web", now: now) }
    }

    func hookRunsCommitWithTheirUser() async throws {
        try await store.createUser(user("u1"), postSignUpHooks: ["crm", "mailer"], verification: nil, now: now)
        await #expect(throws: StorageError.alreadyExists) {
            try await store.createUser(user("u2", email: "u1@example.com"), postSignUpHooks: ["crm"], verification: nil, now: now)
        }
        let due = try await store.claimHookRuns(now: now, limit: 10, lease: Lease(holder: "a", until: now + 30))
        #expect(Set(due.map(\.hook)) == ["crm", "mailer"] && due.allSatisfy { $0.userID == "u1" && $0.attempts == 0 })
        #expect(due.count == 2, "a refused sign-up leaves no hook run")
        let first = try #require(due.first)
        try await store.markHookRunFailed(id: first.id, error: "timeout", retryAt: now + 60, now: now)
        #expect(try await store.nextHookRunDue() == now + 30, "the other run waits for its lease")
        #expect(try await store.claimHookRuns(now: now + 31, limit: 10, lease: Lease(holder: "b", until: now + 61)).count == 1)
        try await store.markHookRunFailed(id: first.id, error: "timeout", retryAt: nil, now: now)
        #expect(try await store.deadHookRuns().map(\.id) == [first.id])
        #expect(try await store.retryDeadHookRuns(ids: nil, now: now) == 1)
    }

    /// Two handles claiming hook runs and mail at once, in small batches: every item is
    /// claimed exactly once; unmarked claims are taken over once their lease has run out;
    /// marked ones never again.
    func outboxClaimsAcrossHandles() async throws {
        let other = try await makeHandle()
        for index in 0..<40 {
            let owner = user("o\(index)")
            try await store.createUser(
                owner, postSignUpHooks: ["crm"], verification: code(owner, .verifyEmail, owner.email, secret: "s\(index)"), now: now)
        }
        func claimAll(at time: Date, holder: String) async throws -> (hooks: [Int64], mail: [String]) {
            try await withThrowingTaskGroup(of: ([Int64], [String]).self) { group in
                for (name, handle) in [("\(holder)-1", store), ("\(holder)-2", other)] {
                    group.addTask {
                        var hooks: [Int64] = [], mail: [String] = []
                        while true {
                            let lease = Lease(holder: name, until: time + 30)
                            let runs = try await handle.claimHookRuns(now: time, limit: 3, lease: lease)
                            let messages = try await handle.claimMail(now: time, limit: 3, lease: lease)
                            if runs.isEmpty && messages.isEmpty { return (hooks, mail) }
                            hooks += runs.map(\.id)
                            mail += messages.map(\.id)
                        }
                    }
                }
                return try await group.reduce(into: ([Int64](), [String]())) { $0.0 += $1.0; $0.1 += $1.1 }
            }
        }
        let first = try await claimAll(at: now, holder: "a")
        #expect(first.hooks.count == 40 && Set(first.hooks).count == 40, "each run claimed once")
        #expect(first.mail.count == 40 && Set(first.mail).count == 40, "each message claimed once")
        #expect(try await claimAll(at: now + 29, holder: "b").hooks.isEmpty, "leased work is not claimed again")
        try await store.markHookRunSucceeded(id: first.hooks[0], now: now)
        try await other.markMailSent(id: first.mail[0], now: now)
        let takenOver = try await claimAll(at: now + 31, holder: "c")
        #expect(Set(takenOver.hooks) == Set(first.hooks.dropFirst()), "expired leases are taken over; a marked run is done")
        #expect(Set(takenOver.mail) == Set(first.mail.dropFirst()), "expired leases are taken over; a sent message is done")
    }

    func clientRegistryAndSync() async throws {
        let declared = Client(id: "cfg", name: "Config", secretHash: hash("c"), grants: [.clientCredentials], scope: Scope(["api"]),
                              createdAt: now, source: .config)
        let public_ = Client(id: "spa", name: "SPA", secretHash: nil, redirectURIs: ["https://spa.example/cb"], grants: [.authorizationCode],
                             scope: Scope(["openid"]), createdAt: now)
        try await store.createClient(public_, now: now)
        #expect(try await store.syncConfiguredClients([declared], now: now) == [])
        #expect(try await store.listClients().map(\.id).sorted() == ["cfg", "spa"])
        #expect(try await store.client(id: "spa")?.redirectURIs == ["https://spa.example/cb"])
        await #expect(throws: StorageError.notFound) { try await store.replaceClientSecret(id: "spa", hash: hash("x"), sealed: nil, now: now) }
        await #expect(throws: StorageError.notFound) { try await store.replaceClientSecret(id: "nobody", hash: hash("x"), sealed: nil, now: now) }
        await #expect(throws: StorageError.notFound) { try await store.deleteClient(id: "nobody", now: now) }
        try await store.createUser(user("u1"), postSignUpHooks: [], verification: nil, now: now)
        try await store.createFamily(family("f1", user: "u1", client: "cfg"), firstToken: hash("cfg-t"), now: now)
        #expect(try await store.syncConfiguredClients([], now: now + 1) == ["cfg"], "no longer declared: deleted")
        #expect(try await store.inspect(hash("cfg-t"))?.familyRevoked == true, "with its tokens revoked")
        #expect(try await store.accessTokenStanding(jti: "j", userID: "u1", clientID: "cfg").clientTokensNotBefore == now + 1)
        #expect(try await store.revokeClientTokens(clientID: "spa", now: now) == 0)
    }

    func sessionsAndAudit() async throws {
        try await store.createUser(user("u1"), postSignUpHooks: [], verification: nil, now: now)
        try await store.createSession(id: "s1", tokenHash: hash("cookie"), userID: "u1", authTime: now, expiresAt: now + 3600, now: now)
        #expect(try await store.session(tokenHash: hash("cookie"), now: now + 1)?.id == "s1")
        #expect(try await store.session(tokenHash: hash("cookie"), now: now + 3601) == nil, "expired")
        #expect(try await store.session(tokenHash: hash("other"), now: now) == nil)
        try await store.revokeAllTokens(userID: "u1", now: now + 2)
        #expect(try await store.session(tokenHash: hash("cookie"), now: now + 3) == nil, "a global sign-out ends it")
        try await store.createSession(id: "s2", tokenHash: hash("cookie2"), userID: "u1", authTime: now + 5, expiresAt: now + 3600, now: now + 5)
        try await store.endSession(tokenHash: hash("cookie2"), now: now + 6)
        #expect(try await store.session(tokenHash: hash("cookie2"), now: now + 7) == nil, "ended")
        try await store.recordAdminAction(actor: "root", action: "users.disable", target: "u1", details: nil, now: now)
        try await store.recordAdminAction(actor: "root", action: "keys.rotate", target: nil, details: "k", now: now + 1)
        let entries = try await store.adminActions(limit: 10)
        #expect(entries.map(\.action) == ["keys.rotate", "users.disable"], "newest first")
        #expect(entries.first?.details == "k" && entries.last?.target == "u1")
        try await store.recordAdminAction(actor: "client c", action: "revoke.jti", target: "jti j", details: nil, now: now + 2)
        let page = try await store.adminActions(limit: 1, before: nil)
        #expect(page.map(\.action) == ["revoke.jti"])
        let next = try await store.adminActions(limit: 5, before: page[0].id)
        #expect(next.map(\.action) == ["keys.rotate", "users.disable"], "older than the id given, newest first")
        #expect(try await store.adminActions(limit: 5, before: next[1].id).isEmpty)
    }

    func mailOutboxLifecycle() async throws {
        let owner = user("m1")
        var verification = code(owner, .verifyEmail, owner.email, secret: "s")
        verification.mail.variables = ["code": "12345678"]
        try await store.createUser(owner, postSignUpHooks: [], verification: verification, now: now)
        let queued = try await store.listMail(status: .queued, recipient: owner.email.uppercased(), limit: 10)
        let id = try #require(queued.first?.id)
        let found = try await store.mail(id: id)
        #expect(queued.count == 1 && found?.request.recipient == owner.email)
        #expect(try await store.nextMailDue() == now)
        try await store.markMailFailed(id: id, error: "421 try later", retryAt: now + 5, now: now)
        var stored = try #require(try await store.mail(id: id))
        #expect(stored.status == .queued && stored.attempts == 1 && stored.lastError == "421 try later" && stored.nextAttemptAt == now + 5)
        try await store.markMailFailed(id: id, error: "550 no such user", retryAt: nil, now: now + 5)
        #expect(try await store.mail(id: id)?.status == .failed)
        #expect(try await store.retryFailedMail(ids: nil, now: now + 6) == [id])
        stored = try #require(try await store.mail(id: id))
        #expect(stored.status == .queued && stored.attempts == 0)
        try await store.markMailSent(id: id, now: now + 7)
        stored = try #require(try await store.mail(id: id))
        #expect(stored.status == .sent && stored.request.variables["code"] == nil, "a sent message keeps no code")
        #expect(try await store.retryFailedMail(ids: [id], now: now + 8) == [], "only failed messages are retried")
        #expect(try await store.listMail(status: .failed, recipient: nil, limit: 10).isEmpty)
    }

    func signingKeyLifecycle() async throws {
        let other = try await makeHandle()
        let first = SigningKeyMaterial(kid: "k1", publicJWK: #"{"kid":"k1"}"#)
        let records = try await store.reconcileSigningKeys(present: [first], preferred: "k1", retireMissingAfter: now + 900, now: now)
        #expect(records.map(\.state) == [.active])
        try await store.addNextSigningKey(SigningKeyMaterial(kid: "k2", publicJWK: #"{"kid":"k2"}"#), sealedPrivateKey: [1, 2, 3],
                                          activateAfter: now + 2, now: now + 1)
        let published = try await other.allSigningKeys()
        #expect(published.map(\.kid) == ["k1", "k2"] && published.allSatisfy { $0.isPublished(at: now + 1) })
        #expect(try await other.sealedPrivateKeys() == ["k2": [1, 2, 3]])
        #expect(try await store.promoteNextSigningKey(now: now + 1, retireAfter: now + 901) == false, "not due yet")
        let promoted = try await withThrowingTaskGroup(of: Bool.self) { group in
            for handle in [store, other, store, other] {
                group.addTask { try await handle.promoteNextSigningKey(now: now + 2, retireAfter: now + 902) }
            }
            return try await group.reduce(into: 0) { $0 += $1 ? 1 : 0 }
        }
        #expect(promoted == 1, "one promotion, whoever tried")
        let after = try await store.allSigningKeys()
        #expect(after.map(\.state) == [.retiring, .active] && after[0].retireAfter == now + 902)
        #expect(try await other.storeFirstSigningKey(SigningKeyMaterial(kid: "k3", publicJWK: "{}"), sealedPrivateKey: [9], now: now)
            .map(\.kid) == ["k1", "k2"], "a first key is stored only when none is active")
        let secrets = try await withThrowingTaskGroup(of: [UInt8].self) { group in
            for (index, handle) in [store, other].enumerated() {
                group.addTask { try await handle.sealedSecret(named: "code_secret") { [UInt8(index + 1)] } }
            }
            return try await group.reduce(into: [[UInt8]]()) { $0.append($1) }
        }
        #expect(secrets[0] == secrets[1], "servers starting at once end up with one secret")
    }

    func groupsAndMembers() async throws {
        let other = try await makeHandle()
        for id in ["g1", "g2", "g3"] { try await store.createUser(user(id), postSignUpHooks: [], verification: nil, now: now) }
        let group = { (name: String, precedence: Int?) in UserGroup(name: name, description: "d \(name)", precedence: precedence, createdAt: now, updatedAt: now) }
        try await store.createGroup(group("zeta", 1))
        try await store.createGroup(group("alpha", nil))
        try await store.createGroup(group("Beta", 5))
        try await store.createGroup(group("beta", 1))
        await #expect(throws: StorageError.alreadyExists) { try await other.createGroup(group("zeta", 2)) }
        #expect(try await other.listGroups(limit: 10, after: nil).map(\.name) == ["Beta", "alpha", "beta", "zeta"], "byte order of names")
        #expect(try await store.listGroups(limit: 2, after: "Beta").map(\.name) == ["alpha", "beta"])
        #expect(try await store.group(named: "zeta") == group("zeta", 1))
        #expect(try await store.group(named: "ZETA") == nil, "names are exact")
        // Sixteen concurrent adds of one member over two handles: one row.
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            for index in 0..<16 {
                let handle = index.isMultiple(of: 2) ? store : other
                tasks.addTask { try await handle.addMember(group: "zeta", userID: "g1", now: now) }
            }
            try await tasks.waitForAll()
        }
        for name in ["alpha", "Beta", "beta"] { try await store.addMember(group: name, userID: "g1", now: now) }
        try await other.addMember(group: "zeta", userID: "g2", now: now)
        await #expect(throws: StorageError.notFound) { try await store.addMember(group: "nope", userID: "g1", now: now) }
        await #expect(throws: StorageError.notFound) { try await store.addMember(group: "zeta", userID: "nobody", now: now) }
        #expect(try await other.groups(ofUser: "g1").map(\.name) == ["beta", "zeta", "Beta", "alpha"], "precedence, none last, then name")
        #expect(try await store.members(of: "zeta", limit: 10, after: nil).map(\.id) == ["g1", "g2"])
        #expect(try await store.members(of: "zeta", limit: 10, after: "g1").map(\.id) == ["g2"])
        await #expect(throws: StorageError.notFound) { try await store.members(of: "nope", limit: 10, after: nil) }
        #expect(try await store.removeMember(group: "zeta", userID: "g2"))
        #expect(try await !store.removeMember(group: "zeta", userID: "g2"), "removed once")
        let updated = try await other.updateGroup(named: "alpha", description: nil, precedence: 0, now: now + 5)
        #expect(updated?.precedence == 0 && updated?.description == nil && updated?.updatedAt == now + 5)
        #expect(try await store.updateGroup(named: "nope", description: nil, precedence: nil, now: now) == nil)
        #expect(try await store.groups(ofUser: "g1").first?.name == "alpha")
        // A group goes with its memberships; a user with theirs.
        #expect(try await store.deleteGroup(named: "beta"))
        #expect(try await !store.deleteGroup(named: "beta"))
        #expect(try await store.groups(ofUser: "g1").map(\.name) == ["alpha", "zeta", "Beta"])
        try await store.deleteUser(id: "g1", farewell: nil, now: now)
        #expect(try await store.members(of: "zeta", limit: 10, after: nil).isEmpty)
        #expect(try await other.groups(ofUser: "g1").isEmpty)
    }

    func cognitoStoresAcrossHandles() async throws {
        let other = try await makeHandle()
        // Access keys.
        try await store.createAccessKey(AccessKeyRecord(id: "AK1", sealedSecret: [1, 2, 3], createdAt: now))
        await #expect(throws: StorageError.alreadyExists) {
            try await other.createAccessKey(AccessKeyRecord(id: "AK1", sealedSecret: [9], createdAt: now))
        }
        #expect(try await other.accessKey(id: "AK1")?.sealedSecret == [1, 2, 3])
        #expect(try await other.listAccessKeys().map(\.id) == ["AK1"])
        #expect(try await other.deleteAccessKey(id: "AK1"))
        #expect(try await store.accessKey(id: "AK1") == nil, "deleted through another handle")
        #expect(try await !store.deleteAccessKey(id: "AK1"))

        // A challenge answer is spent once: sixteen concurrent spends over two handles, one wins.
        let wins = try await withThrowingTaskGroup(of: Bool.self) { tasks in
            for index in 0..<16 {
                let handle = index.isMultiple(of: 2) ? store : other
                tasks.addTask { try await handle.spendChallenge(id: "srp:block", expiresAt: now + 300) }
            }
            return try await tasks.reduce(0) { $0 + ($1 ? 1 : 0) }
        }
        #expect(wins == 1)

        // SRP verifiers go with their user and with every password change.
        try await store.createUser(user("c1"), postSignUpHooks: [], verification: nil, now: now)
        try await store.storeSRPVerifier(userID: "c1", sealed: [7], now: now)
        try await other.storeSRPVerifier(userID: "c1", sealed: [8], now: now)
        try await store.storeSRPVerifier(userID: "nobody", sealed: [9], now: now)
        #expect(try await store.srpVerifier(userID: "c1") == [8])
        #expect(try await store.srpVerifier(userID: "nobody") == nil, "no verifier without a user")
        try await other.setPassword(userID: "c1", hash: "$2b$10$anotherhashanotherhashanotherhashanotherhashanotherhas", now: now)
        #expect(try await store.srpVerifier(userID: "c1") == nil, "a new password drops the old verifier")

        // A temporary password is replaced once: eight concurrent answers, one wins.
        try await store.setPassword(userID: "c1", hash: "$2b$10$temporaryhashtemporaryhashtemporaryhashtemporaryhash", state: .temporary, now: now)
        #expect(try await other.user(id: "c1")?.passwordState == .temporary)
        let replaced = try await withThrowingTaskGroup(of: Bool.self) { tasks in
            for index in 0..<8 {
                let handle = index.isMultiple(of: 2) ? store : other
                tasks.addTask { try await handle.replaceTemporaryPassword(userID: "c1", hash: "$2b$10$chosen\(index)", now: now) != nil }
            }
            return try await tasks.reduce(0) { $0 + ($1 ? 1 : 0) }
        }
        #expect(replaced == 1)
        #expect(try await store.user(id: "c1")?.passwordState == .permanent)
        try await store.requirePasswordReset(userID: "c1", now: now + 1)
        #expect(try await other.user(id: "c1")?.passwordState == .resetRequired)
        await #expect(throws: StorageError.notFound) { try await store.requirePasswordReset(userID: "nobody", now: now) }

        // A rotated token's successor, remembered for its grace.
        try await store.createFamily(family("cf", user: "c1"), firstToken: hash("r1"), now: now + 2)
        try await store.rememberSuccessor(of: hash("r1"), sealedSuccessor: [5, 5], expiresAt: now + 30)
        try await other.rememberSuccessor(of: hash("r1"), sealedSuccessor: [6, 6], expiresAt: now + 30)
        try await store.rememberSuccessor(of: hash("unknown"), sealedSuccessor: [1], expiresAt: now + 30)
        #expect(try await other.rememberedSuccessor(of: hash("r1"), now: now + 10) == [5, 5], "the first answer stays")
        #expect(try await other.rememberedSuccessor(of: hash("r1"), now: now + 31) == nil, "the grace is over")
        #expect(try await store.rememberedSuccessor(of: hash("unknown"), now: now) == nil, "only a known token's")
        let swept = try await store.sweepExpired(now: now + 400, eventRetention: 86400 * 365)
        #expect(swept.revokedJTIs >= 2, "the spent challenge and the remembered successor")
    }

    func imported(_ id: String, email: String? = nil, hash: String? = nil, groups: [String] = [], keepsID: Bool = true) -> ImportedUser {
        ImportedUser(
            id: id, email: email ?? "\(id)@example.com", emailVerified: true, status: .active, createdAt: now - 86400,
            attributes: ["name": id], groups: groups, passwordHash: hash, keepsID: keepsID)
    }

    func importsAcrossHandles() async throws {
        let other = try await makeHandle()
        try await store.createUser(user("local"), postSignUpHooks: [], verification: nil, now: now)
        try await store.createUser(user("gone"), postSignUpHooks: [], verification: nil, now: now)
        try await store.deleteUser(id: "gone", farewell: nil, now: now)

        // A dry run decides everything and keeps nothing.
        let batch = [imported("i1", groups: ["team"]), imported("i2", email: "LOCAL@example.com"), imported("gone", email: "new@example.com"),
                     imported("i3", hash: "bcrypt:$2b$04$abcdefghijklmnopqrstuuABCDEFGHIJKLMNOPQRSTUVWXYZ01234")]
        let dry = try await store.importUsers(batch, dryRun: true, now: now)
        #expect(dry.map { if case .refused = $0 { "refused" } else { "\($0)" } } == ["created", "refused", "refused", "created"])
        #expect(try await other.user(id: "i1") == nil)
        #expect(try await other.group(named: "team") == nil)

        // The same batch for real: a refused record leaves the others written.
        let done = try await store.importUsers(batch, dryRun: false, now: now)
        #expect(done == dry)
        let first = try #require(try await other.user(id: "i1"))
        #expect(first.createdAt == now - 86400 && first.passwordHash == nil && first.passwordState == .resetRequired && first.emailVerified)
        #expect(try await other.groups(ofUser: "i1").map(\.name) == ["team"])
        #expect(try await other.user(id: "i3")?.passwordState == .permanent)
        #expect(try await events(other, subject: "i1").map(\.type) == [.userCreated])

        // A re-run changes nothing; a changed attribute is an update with its event; a record
        // without an id finds its user by address; a disable revokes.
        #expect(try await other.importUsers([imported("i1", groups: ["team"])], dryRun: false, now: now) == [.unchanged])
        var renamed = imported("i1", groups: ["team"])
        renamed.attributes = ["name": "renamed"]
        #expect(try await other.importUsers([renamed], dryRun: false, now: now + 1) == [.updated])
        var byAddress = imported("random-new-id", email: "I1@example.com", groups: ["team", "more"], keepsID: false)
        byAddress.attributes = ["name": "renamed"]
        byAddress.status = .disabled
        #expect(try await store.importUsers([byAddress], dryRun: false, now: now + 2) == [.updated])
        #expect(try await store.user(id: "random-new-id") == nil)
        #expect(try await other.user(id: "i1")?.status == .disabled)
        #expect(try await events(store, subject: "i1").map(\.type) == [.userCreated, .userUpdated, .userDisabled, .sessionsRevoked])
        #expect(try await store.groups(ofUser: "i1").map(\.name).sorted() == ["more", "team"])

        // Sixteen concurrent imports of one new user over two handles create it once.
        let outcomes = try await withThrowingTaskGroup(of: ImportOutcome.self) { tasks in
            for index in 0..<16 {
                let handle = index.isMultiple(of: 2) ? store : other
                tasks.addTask { try await handle.importUsers([imported("race")], dryRun: false, now: now).first! }
            }
            return try await tasks.reduce(into: [ImportOutcome]()) { $0.append($1) }
        }
        #expect(outcomes.filter { $0 == .created }.count == 1)
        #expect(try await events(store, subject: "race").map(\.type) == [.userCreated])

        // A password is adopted once: eight concurrent first sign-ins, one sets it.
        let adopted = try await withThrowingTaskGroup(of: Bool.self) { tasks in
            for index in 0..<8 {
                let handle = index.isMultiple(of: 2) ? store : other
                tasks.addTask { try await handle.adoptPassword(userID: "race", hash: "tessera-v2:$2b$04$hash\(index)", now: now) != nil }
            }
            return try await tasks.reduce(0) { $0 + ($1 ? 1 : 0) }
        }
        #expect(adopted == 1)
        #expect(try await store.user(id: "race")?.passwordState == .permanent)
        #expect(try await store.adoptPassword(userID: "local", hash: "x", now: now) == nil, "a user with a password keeps it")
        #expect(try await store.adoptPassword(userID: "nobody", hash: "x", now: now) == nil)
    }

    func accountAddresses() async throws {
        let limits = CodeSendLimits(resendInterval: 0, maxPerHour: 100)
        let owner = user("e1")
        try await store.createUser(owner, postSignUpHooks: [], verification: nil, now: now)
        try await store.createUser(user("e2"), postSignUpHooks: [], verification: nil, now: now)
        let add = { (address: String, max: Int) in
            try await store.addEmail(userID: owner.id, email: address, maxAddresses: max, limits: limits, now: now) { found in
                code(found, .addEmail, address.lowercased(), secret: "a-\(address)")
            }
        }
        #expect(try await add("Second@Example.com", 5) == .added(codeIssued: true))
        #expect(try await add("e2@example.com", 5) == .taken, "another account's primary")
        #expect(try await add(owner.email, 5) == .taken, "its own primary")
        #expect(try await add("third@example.com", 2) == .tooMany)
        #expect(try await store.addEmail(userID: "nobody", email: "x@example.com", maxAddresses: 5, limits: limits, now: now) { _ in
            code(owner, .addEmail, "x@example.com", secret: "x")
        } == .noSuchUser)
        #expect(try await store.emails(userID: owner.id).map(\.email) == [owner.email, "Second@Example.com"])
        let notice: @Sendable (User) -> MailRequest = { found in
            MailRequest(id: "p-\(found.profileVersion)", userID: found.id, recipient: found.email, template: .emailAdded, locale: nil, variables: [:],
                        codeExpiresAt: nil)
        }
        #expect(try await store.makePrimary(userID: owner.id, emailKey: "second@example.com", now: now, notice) == .unverified)
        #expect(try await store.makePrimary(userID: owner.id, emailKey: "none@example.com", now: now, notice) == .notFound)
        #expect(try await store.removeEmail(userID: owner.id, emailKey: owner.email, now: now) { found, _ in notice(found) } == .isPrimary)
        guard case .changed = try await store.removeEmail(userID: owner.id, emailKey: "second@example.com", now: now, { found, _ in notice(found) })
        else {
            Issue.record("an added address is removed")
            return
        }
        #expect(try await store.emails(userID: owner.id).map(\.email) == [owner.email])
        #expect(try await events(store, subject: owner.id).map(\.type) == [.userCreated, .emailAdded, .emailRemoved])
    }

    func eventRedactionAndRetention() async throws {
        var named = user("u1", email: "ann@example.com")
        named.attributes = ["name": "Ann"]
        try await store.createUser(named, postSignUpHooks: [], verification: nil, now: now)
        try await store.createUser(user("u2"), postSignUpHooks: [], verification: nil, now: now + 100 * 86400)
        try await store.deleteUser(id: "u1", farewell: nil, now: now + 100 * 86400)
        let logged = try await events(store)
        #expect(logged.map(\.type) == [.userCreated, .userCreated, .userDeleted])
        for event in logged {
            let text = String(decoding: event.data, as: UTF8.self)
            #expect(!text.contains("ann@example.com") && !text.contains("Ann"), "\(text)")
        }
        // Thirty days on, the first event is past the retention: a cursor before it has expired.
        let swept = try await store.sweepExpired(now: now + 100 * 86400, eventRetention: 30 * 86400)
        #expect(swept.events == 1)
        #expect(try await store.events(EventQuery(after: 0)) == .cursorExpired)
        guard case .events(let kept, let after) = try await store.events(EventQuery()) else {
            Issue.record("reading from the oldest retained event never expires")
            return
        }
        #expect(kept.map(\.position) == Array(logged.map(\.position).dropFirst()) && after == logged[0].position)
    }

    func webhookEndpointsAndSecrets() async throws {
        let endpoint = WebhookEndpoint(
            id: "whe_1", url: "https://hooks.example.com/in", description: "CRM", eventTypes: [.userCreated, .userDeleted], createdAt: now)
        try await store.createEndpoint(endpoint, secret: [1, 2, 3], now: now)
        await #expect(throws: StorageError.alreadyExists) { try await store.createEndpoint(endpoint, secret: [4], now: now) }
        #expect(try await store.endpoint(id: "whe_1") == endpoint)
        #expect(try await store.endpoints() == [endpoint])
        try await store.rotateSecret(endpointID: "whe_1", secret: [9, 9], previousUntil: now + 60, now: now)
        try await store.createUser(user("u1"), postSignUpHooks: [], verification: nil, now: now)
        let claim = try #require(try await store.claimDeliveries(limit: 1, leaseUntil: now + 30, now: now).first)
        #expect(claim.secrets == SealedWebhookSecrets(current: [9, 9], previous: [1, 2, 3], previousUntil: now + 60))
        try await store.releaseClaim(claim)
        let later = try #require(try await store.claimDeliveries(limit: 1, leaseUntil: now + 100, now: now + 61).first)
        #expect(later.secrets == SealedWebhookSecrets(current: [9, 9]), "the old secret stops signing after the overlap")
        // A test delivery is leased to the one who queued it, in the same transaction: senders
        // racing for due lanes never take it (raced over 10 rounds).
        for round in 0..<10 {
            let at = now + 62 + Double(round) * 100
            let (test, senders) = try await withThrowingTaskGroup(of: [Int64].self) { group in
                for _ in 0..<4 {
                    group.addTask { try await store.claimDeliveries(limit: 10, leaseUntil: at + 50, now: at).map(\.deliveryID) }
                }
                let test = try await store.queueTest(endpointID: "whe_1", leaseUntil: at + 50, now: at)
                var senders: [Int64] = []
                for try await claimed in group { senders += claimed }
                return (test, senders)
            }
            #expect(test.claim?.deliveryID == test.deliveryID && test.claim?.event.type == .webhookTest, "round \(round)")
            #expect(!senders.contains(test.deliveryID), "round \(round): a sender took the test delivery")
            if let claim = test.claim { _ = try await store.finishDelivery(claim, result: .delivered(status: 204), disableAfter: 3600, now: at + 1) }
        }
        let first = try await store.queueTest(endpointID: "whe_1", leaseUntil: now + 5000, now: now + 4000)
        #expect(first.claim != nil)
        #expect(try await store.queueTest(endpointID: "whe_1", leaseUntil: now + 5000, now: now + 4001).claim == nil, "a second test waits behind the first")
        await #expect(throws: StorageError.notFound) { try await store.queueTest(endpointID: "nope", leaseUntil: now, now: now) }
        try await store.setEndpointEnabled(id: "whe_1", enabled: false, reason: "maintenance", now: now)
        #expect(try await store.endpoint(id: "whe_1")?.disabledReason == "maintenance")
        await #expect(throws: StorageError.notFound) { try await store.setEndpointEnabled(id: "nope", enabled: true, reason: nil, now: now) }
        await #expect(throws: StorageError.notFound) { try await store.rotateSecret(endpointID: "nope", secret: [1], previousUntil: now, now: now) }
        try await store.deleteEndpoint(id: "whe_1")
        #expect(try await store.endpoints().isEmpty)
        await #expect(throws: StorageError.notFound) { try await store.deleteEndpoint(id: "whe_1") }
    }
}
