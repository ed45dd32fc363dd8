/// The id of the HTTP request the current task works for (contract §12.2), set by the server
/// around each request, so that every line logged on its behalf — by any logger, in any
/// module, in tasks it starts — carries `request_id`.
public enum RequestIdentity {
    @TaskLocal public static var current: String?
}
