/// One plain-SQL migration compiled into the binary.
public struct Migration: Sendable {
    /// `NNNN_name`, the file name without `.sql`; also the name recorded once applied.
    public let name: String
    public let sql: String

    public init(_ name: String, _ bytes: [UInt8]) {
        self.name = name
        self.sql = String(decoding: bytes, as: UTF8.self)
    }
}

/// Every migration, in the order they apply.
public enum Migrations {
    public static let all: [Migration] = [
        Migration("0001_signing_keys", PackageResources._001_signing_keys_sql),
        Migration("0002_accounts_and_tokens", PackageResources._002_accounts_and_tokens_sql),
        Migration("0003_clients_codes_sessions", PackageResources._003_clients_codes_sessions_sql),
        Migration("0004_admin", PackageResources._004_admin_sql),
        Migration("0005_change_counters", PackageResources._005_change_counters_sql),
        Migration("0006_retention_indexes", PackageResources._006_retention_indexes_sql),
        Migration("0007_password_hash_costs", PackageResources._007_password_hash_costs_sql),
        Migration("0008_profile_version", PackageResources._008_profile_version_sql),
        Migration("0009_mail_and_codes", PackageResources._009_mail_and_codes_sql),
        Migration("0010_deleted_users", PackageResources._010_deleted_users_sql),
        Migration("0011_user_emails", PackageResources._011_user_emails_sql),
        Migration("0012_events_and_webhooks", PackageResources._012_events_and_webhooks_sql),
        Migration("0013_cluster_coordination", PackageResources._013_cluster_coordination_sql),
        Migration("0014_keys_in_database", PackageResources._014_keys_in_database_sql),
        Migration("0015_groups", PackageResources._015_groups_sql),
        Migration("0016_cognito", PackageResources._016_cognito_sql),
    ]

    /// The PostgreSQL schema: the same migrations by name and order (a test holds the two lists
    /// equal), each written in PostgreSQL's dialect (`postgres/NNNN_name.pg.sql`).
    public static let postgres: [Migration] = [
        Migration("0001_signing_keys", PackageResources._001_signing_keys_pg_sql),
        Migration("0002_accounts_and_tokens", PackageResources._002_accounts_and_tokens_pg_sql),
        Migration("0003_clients_codes_sessions", PackageResources._003_clients_codes_sessions_pg_sql),
        Migration("0004_admin", PackageResources._004_admin_pg_sql),
        Migration("0005_change_counters", PackageResources._005_change_counters_pg_sql),
        Migration("0006_retention_indexes", PackageResources._006_retention_indexes_pg_sql),
        Migration("0007_password_hash_costs", PackageResources._007_password_hash_costs_pg_sql),
        Migration("0008_profile_version", PackageResources._008_profile_version_pg_sql),
        Migration("0009_mail_and_codes", PackageResources._009_mail_and_codes_pg_sql),
        Migration("0010_deleted_users", PackageResources._010_deleted_users_pg_sql),
        Migration("0011_user_emails", PackageResources._011_user_emails_pg_sql),
        Migration("0012_events_and_webhooks", PackageResources._012_events_and_webhooks_pg_sql),
        Migration("0013_cluster_coordination", PackageResources._013_cluster_coordination_pg_sql),
        Migration("0014_keys_in_database", PackageResources._014_keys_in_database_pg_sql),
        Migration("0015_groups", PackageResources._015_groups_pg_sql),
        Migration("0016_cognito", PackageResources._016_cognito_pg_sql),
    ]
}
