import Foundation
import PostgresNIO
import TesseraCore

extension PostgresStorage: HookOutbox {
    static let hookRunColumns = "id, user_id, hook, state, attempts, next_attempt_at, last_error"

    static func hookRun(_ row: Cells) throws -> HookRun {
        HookRun(
            id: try row.int64(0), userID: try row.text(1), hook: try row.text(2), state: HookRunState(rawValue: try row.text(3)) ?? .dead,
            attempts: try row.int(4), nextAttemptAt: try row.date(5), lastError: try row.optionalText(6))
    }

    /// Claims with `FOR UPDATE SKIP LOCKED`: instances claiming at once take different runs.
    public func claimHookRuns(now: Date, limit: Int, lease: Lease) async throws -> [HookRun] {
        try await write { sql in
            try await sql.rows("""
                UPDATE hook_runs SET leased_until = \(lease.until.stored), leased_by = \(lease.holder) WHERE id IN (
                    SELECT id FROM hook_runs
                    WHERE state = 'pending' AND next_attempt_at <= \(now.stored) AND (leased_until IS NULL OR leased_until <= \(now.stored))
                    ORDER BY next_attempt_at, id LIMIT \(limit) FOR UPDATE SKIP LOCKED)
                RETURNING \(unescaped: Self.hookRunColumns)
                """).map(Self.hookRun).sorted { ($0.nextAttemptAt, $0.id) < ($1.nextAttemptAt, $1.id) }
        }
    }

    public func nextHookRunDue() async throws -> Date? {
        try await read { sql in
            try await sql.row("SELECT min(greatest(next_attempt_at, coalesce(leased_until, 0))) FROM hook_runs WHERE state = 'pending'")?
                .optionalDate(0)
        }
    }

    public func deadHookRuns() async throws -> [HookRun] {
        try await read { sql in
            try await sql.rows("SELECT \(unescaped: Self.hookRunColumns) FROM hook_runs WHERE state = 'dead' ORDER BY id").map(Self.hookRun)
        }
    }

    public func retryDeadHookRuns(ids: [Int64]?, now: Date) async throws -> Int {
        try await write { sql in
            try await sql.execute("""
                UPDATE hook_runs SET state = 'pending', attempts = 0, next_attempt_at = \(now.stored), updated_at = \(now.stored)
                WHERE state = 'dead' AND (\(ids == nil) OR id = ANY (\(ids ?? [])))
                """)
        }
    }

    public func markHookRunSucceeded(id: Int64, now: Date) async throws {
        try await write { sql in
            try await sql.execute("""
                UPDATE hook_runs SET state = 'succeeded', attempts = attempts + 1, last_error = NULL, leased_until = NULL, leased_by = NULL,
                    updated_at = \(now.stored) WHERE id = \(id)
                """)
        }
    }

    public func markHookRunFailed(id: Int64, error: String, retryAt: Date?, now: Date) async throws {
        try await write { sql in
            try await sql.execute("""
                UPDATE hook_runs SET state = \(retryAt == nil ? "dead" : "pending"), attempts = attempts + 1, last_error = \(String(error.prefix(1000))),
                    next_attempt_at = COALESCE(\(retryAt?.stored), next_attempt_at), leased_until = NULL, leased_by = NULL,
                    updated_at = \(now.stored)
                WHERE id = \(id)
                """)
        }
    }
}

extension PostgresStorage: SigningKeyStore {
    public func allSigningKeys() async throws -> [SigningKeyRecord] {
        try await read { sql in try await Self.fetchSigningKeys(sql) }
    }

    public func addNextSigningKey(_ key: SigningKeyMaterial, sealedPrivateKey: [UInt8]?, activateAfter: Date, now: Date) async throws {
        try await write { sql in
            try await sql.execute("""
                INSERT INTO signing_keys (kid, state, created_at, public_jwk, activate_after, private_key)
                VALUES (\(key.kid), 'next', \(now.stored), \(key.publicJWK), \(activateAfter.stored), \(sealedPrivateKey.map { Data($0) }))
                """)
        }
    }

    public func promoteNextSigningKey(now: Date, retireAfter: Date) async throws -> Bool {
        try await write { sql in
            // The next key's row is locked: of instances promoting at once, the others wait and
            // then find it active.
            guard let kid = try await sql.row("""
                SELECT kid FROM signing_keys WHERE state = 'next' AND activate_after <= \(now.stored)
                ORDER BY activate_after, kid LIMIT 1 FOR UPDATE SKIP LOCKED
                """)?.text(0)
            else { return false }
            try await sql.execute("UPDATE signing_keys SET state = 'retiring', retire_after = \(retireAfter.stored) WHERE state = 'active'")
            try await sql.execute("UPDATE signing_keys SET state = 'active', activate_after = NULL WHERE kid = \(kid)")
            return true
        }
    }

    public func storeFirstSigningKey(_ key: SigningKeyMaterial, sealedPrivateKey: [UInt8], now: Date) async throws -> [SigningKeyRecord] {
        try await write { sql in
            // The unique index on the active state lets one of several starting instances in.
            try await sql.execute("""
                INSERT INTO signing_keys (kid, state, created_at, public_jwk, private_key)
                SELECT \(key.kid), 'active', \(now.stored), \(key.publicJWK), \(Data(sealedPrivateKey))
                WHERE NOT EXISTS (SELECT 1 FROM signing_keys WHERE state = 'active')
                ON CONFLICT DO NOTHING
                """)
            return try await Self.fetchSigningKeys(sql)
        }
    }

    public func sealedPrivateKeys() async throws -> [String: [UInt8]] {
        try await read { sql in
            var keys: [String: [UInt8]] = [:]
            for row in try await sql.rows("SELECT kid, private_key FROM signing_keys WHERE private_key IS NOT NULL AND state <> 'retired'") {
                keys[try row.text(0)] = try row.bytes(1)
            }
            return keys
        }
    }

    public func sealedSecret(named name: String, orStore make: @Sendable () throws -> [UInt8]) async throws -> [UInt8] {
        let candidate = try make()
        return try await write { sql in
            try await sql.execute("INSERT INTO stored_secrets (name, sealed) VALUES (\(name), \(Data(candidate))) ON CONFLICT (name) DO NOTHING")
            guard let stored = try await sql.row("SELECT sealed FROM stored_secrets WHERE name = \(name)") else { throw StorageError.notFound }
            return try stored.bytes(0)
        }
    }

    public func reconcileSigningKeys(
        present: [SigningKeyMaterial], preferred: String, retireMissingAfter: Date, now: Date
    ) async throws -> [SigningKeyRecord] {
        try await write { sql in
            // One reconciliation at a time across instances starting together.
            try await sql.execute("LOCK TABLE signing_keys IN SHARE ROW EXCLUSIVE MODE")
            let known = Set(try await Self.fetchSigningKeys(sql).map(\.kid))
            for key in present where !known.contains(key.kid) {
                try await sql.execute("""
                    INSERT INTO signing_keys (kid, state, created_at, public_jwk) VALUES (\(key.kid), 'retired', \(now.stored), \(key.publicJWK))
                    """)
            }
            let active = try await sql.row("SELECT kid FROM signing_keys WHERE state = 'active'").map { try $0.text(0) }
            if active == nil || !present.contains(where: { $0.kid == active }) {
                try await sql.execute("UPDATE signing_keys SET state = 'retiring', retire_after = \(retireMissingAfter.stored) WHERE state = 'active'")
                try await sql.execute("UPDATE signing_keys SET state = 'active', retire_after = NULL WHERE kid = \(preferred)")
            }
            return try await Self.fetchSigningKeys(sql)
        }
    }

    static func fetchSigningKeys(_ sql: SQL) async throws -> [SigningKeyRecord] {
        try await sql.rows("SELECT kid, state, created_at, retire_after, public_jwk, activate_after FROM signing_keys ORDER BY created_at, kid").map { row in
            SigningKeyRecord(
                kid: try row.text(0), state: SigningKeyState(rawValue: try row.text(1)) ?? .retired, createdAt: try row.date(2),
                retireAfter: try row.optionalDate(3), publicJWK: try row.text(4), activateAfter: try row.optionalDate(5))
        }
    }
}

extension PostgresStorage: RetentionStore {
    /// Rows deleted per transaction: short ones, so rotations never wait long behind a sweep.
    static let sweepBatch = 500

    public func sweepExpired(now: Date, eventRetention: TimeInterval) async throws -> SweepCounts {
        let at = now.stored
        var events = 0
        while true {
            let removed = try await write { sql in try await Self.pruneEvents(sql, olderThan: now - eventRetention, batch: Self.sweepBatch) }
            events += removed
            if removed < Self.sweepBatch { break }
        }
        let batch = Self.sweepBatch
        // Limits past their window: full buckets, failures no longer counted.
        _ = try await deleteInBatches { sql in
            try await sql.execute("DELETE FROM rate_buckets WHERE key IN (SELECT key FROM rate_buckets WHERE expires_at <= \(at) LIMIT \(batch))")
        }
        _ = try await deleteInBatches { sql in
            try await sql.execute("""
                DELETE FROM login_failures WHERE account_key IN (SELECT account_key FROM login_failures WHERE expires_at <= \(at) LIMIT \(batch))
                """)
        }
        return SweepCounts(
            families: try await deleteInBatches { sql in
                try await sql.execute("""
                    DELETE FROM refresh_token_families WHERE id IN (SELECT id FROM refresh_token_families WHERE expires_at <= \(at) LIMIT \(batch))
                    """)
            },
            sessions: try await deleteInBatches { sql in
                try await sql.execute("""
                    DELETE FROM sso_sessions WHERE id IN (
                        SELECT id FROM sso_sessions WHERE ended_at IS NOT NULL OR expires_at <= \(at) LIMIT \(batch))
                    """)
            },
            revokedJTIs: try await deleteInBatches { sql in
                try await sql.execute("""
                    DELETE FROM revoked_access_tokens WHERE jti IN (SELECT jti FROM revoked_access_tokens WHERE expires_at <= \(at) LIMIT \(batch))
                    """)
            },
            codes: try await deleteInBatches { sql in
                try await sql.execute("""
                    DELETE FROM authorization_codes WHERE code_hash IN (
                        SELECT code_hash FROM authorization_codes WHERE expires_at <= \(at - 86400) LIMIT \(batch))
                    """)
            },
            oneTimeCodes: try await deleteInBatches { sql in
                try await sql.execute("""
                    DELETE FROM one_time_codes WHERE id IN (
                        SELECT id FROM one_time_codes WHERE expires_at <= \(at - 3600) AND created_at <= \(at - 3600) LIMIT \(batch))
                    """)
            },
            mail: try await deleteInBatches { sql in
                try await sql.execute("""
                    DELETE FROM mail_outbox WHERE id IN (
                        SELECT id FROM mail_outbox WHERE status IN ('sent', 'expired', 'failed') AND updated_at <= \(at - SweepCounts.mailRetention)
                        LIMIT \(batch))
                    """)
            },
            mailScrubbed: try await deleteInBatches { sql in
                try await sql.execute("""
                    UPDATE mail_outbox SET \(unescaped: Self.scrubCode) WHERE id IN (
                        SELECT id FROM mail_outbox WHERE status = 'failed' AND code_expires_at <= \(at) AND variables::jsonb ? 'code' LIMIT \(batch))
                    """)
            },
            events: events)
    }

    /// Runs `statement` in its own transaction until it touches less than a full batch;
    /// returns how many rows it touched. Tokens go with their families (ON DELETE CASCADE).
    private func deleteInBatches(_ statement: @escaping @Sendable (SQL) async throws -> Int) async throws -> Int {
        var total = 0
        while true {
            let deleted = try await write(statement)
            total += deleted
            if deleted < Self.sweepBatch { return total }
        }
    }
}
