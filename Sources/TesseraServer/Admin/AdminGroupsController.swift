import Foundation
import Hummingbird
import TesseraCore

/// `/admin/v1/groups` (`admin:groups`), contract §12.4: the admin CLI's group commands over the
/// same ``GroupAdministration``, with its `--json` shapes. A group is named by its name in the
/// path (percent-encoded); a member by user id or address.
struct AdminGroupsController {
    let groups: GroupAdministration
    let users: UserAdministration
    let gate: AdminGate

    func addRoutes(to router: Router<TesseraRequestContext>) {
        let group = router.group("/admin/v1/groups")
        group.get(use: list)
        group.post(use: create)
        group.get(":group", use: show)
        group.delete(":group", use: delete)
        group.get(":group/members", use: members)
        group.put(":group/members/:user", use: addMember)
        group.delete(":group/members/:user", use: removeMember)
    }

    struct CreateRequest: Decodable {
        let name: String
        let description: String?
        let precedence: Int?
        static let keys: Set<String> = ["name", "description", "precedence"]
    }

    private func actor(_ request: Request) async throws -> String {
        try await gate.caller(request, scope: AdminScope.groups)
    }

    private func name(_ context: TesseraRequestContext) throws -> String {
        try AdminPath.parameter("group", of: context)
    }

    private func member(_ context: TesseraRequestContext) async throws -> User {
        try await users.user(try AdminPath.parameter("user", of: context))
    }

    @Sendable func list(_ request: Request, context: TesseraRequestContext) async throws -> Response {
        try await gate.list(request, scope: AdminScope.groups, action: "groups.list") {
            let query = try AdminQuery(request)
            let limit = try query.value("limit", default: 100, "limit must be between 1 and 1000", Int.init)
            return try await groups.list(limit: limit, after: query["after"]).map(GroupAdministration.json)
        }
    }

    @Sendable func create(_ request: Request, context: TesseraRequestContext) async throws -> Response {
        let actor = try await actor(request)
        let body = try await JSONBody.decode(CreateRequest.self, from: request, context: context, allowedKeys: CreateRequest.keys)
        let group = try await groups.create(name: body.name, description: body.description, precedence: body.precedence, actor: actor)
        return try AdminJSON.response(GroupAdministration.json(group), status: .created)
    }

    @Sendable func show(_ request: Request, context: TesseraRequestContext) async throws -> Response {
        let caller = try await actor(request)
        let group = try await groups.group(try name(context))
        try await gate.read(caller, action: "groups.show", target: "group \(group.name)")
        return try AdminJSON.response(GroupAdministration.json(group))
    }

    @Sendable func delete(_ request: Request, context: TesseraRequestContext) async throws -> Response {
        let actor = try await actor(request)
        let name = try name(context)
        try await groups.delete(name, actor: actor)
        return try AdminJSON.response(["name": name, "deleted": true])
    }

    @Sendable func members(_ request: Request, context: TesseraRequestContext) async throws -> Response {
        let caller = try await actor(request)
        let query = try AdminQuery(request)
        let limit = try query.value("limit", default: 100, "limit must be between 1 and 1000", Int.init)
        let name = try name(context)
        let members = try await groups.members(of: name, limit: limit, after: query["after"])
        try await gate.read(caller, action: "groups.members", target: "group \(name)")
        return try AdminJSON.response(members.map(GroupAdministration.member))
    }

    /// Adds the user; putting a member again changes nothing.
    @Sendable func addMember(_ request: Request, context: TesseraRequestContext) async throws -> Response {
        let actor = try await actor(request)
        let (name, user) = (try name(context), try await member(context))
        try await groups.add(user, to: name, actor: actor)
        return try AdminJSON.response(GroupAdministration.membership(user, group: name))
    }

    /// Removes the user; removing a non-member changes nothing.
    @Sendable func removeMember(_ request: Request, context: TesseraRequestContext) async throws -> Response {
        let actor = try await actor(request)
        let (name, user) = (try name(context), try await member(context))
        try await groups.remove(user, from: name, actor: actor)
        return try AdminJSON.response(GroupAdministration.membership(user, group: name))
    }
}
