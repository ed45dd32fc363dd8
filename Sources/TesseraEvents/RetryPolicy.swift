import Foundation
import TesseraCore

/// What became of one attempt, before the schedule is applied.
public enum AttemptOutcome: Sendable, Equatable {
    case answered(WebhookResponse)
    case failed(WebhookSendError)
}

/// Turns an attempt's outcome into a ``DeliveryResult`` (contract §9.3): a 2xx is done; a
/// 410 disables the endpoint; anything else (another status, a redirect, no answer) is
/// retried after the schedule's next delay, ±20 % jitter, or after the endpoint's
/// `Retry-After`; once the schedule is spent the delivery is dead.
public struct RetryPolicy: Sendable {
    /// `webhook_retry_schedule`: one retry per entry.
    public let schedule: [TimeInterval]
    /// The relative spread of each delay (0.2: ±20 %).
    public let jitter: Double
    /// The longest `Retry-After` honoured (a day).
    public static let longestRetryAfter: TimeInterval = 86400

    public init(schedule: [TimeInterval], jitter: Double = 0.2) {
        self.schedule = schedule
        self.jitter = jitter
    }

    /// - Parameters:
    ///   - attemptsBefore: attempts made before this one.
    ///   - random: a number in 0..<1 (injected for tests).
    public func result(of outcome: AttemptOutcome, attemptsBefore: Int, now: Date, random: Double = Double.random(in: 0..<1)) -> DeliveryResult {
        let retryIndex = attemptsBefore  // this attempt failed: the next is retry number attemptsBefore + 1
        func delay(_ retryAfter: TimeInterval?) -> TimeInterval {
            if let retryAfter { return min(max(retryAfter, 1), Self.longestRetryAfter) }
            let base = schedule[min(retryIndex, schedule.count - 1)]
            return base * (1 + jitter * (2 * random - 1))
        }
        let status: Int?
        let error: String
        var retryAfter: TimeInterval?
        switch outcome {
        case .answered(let response):
            switch response.status {
            case 200..<300: return .delivered(status: response.status)
            case 410: return .gone(retryAt: now + delay(nil))
            case 300..<400: error = "redirect (HTTP \(response.status)) not followed"
            default: error = "HTTP \(response.status)"
            }
            status = response.status
            retryAfter = response.retryAfter.flatMap { Self.seconds(fromRetryAfter: $0, now: now) }
        case .failed(let failure):
            status = nil
            error = failure.description
        }
        guard retryIndex < schedule.count else { return .dead(status: status, error: error) }
        return .retry(at: now + delay(retryAfter), status: status, error: error)
    }

    /// RFC 9110 §10.2.3: delay-seconds or an HTTP-date; nil when neither.
    public static func seconds(fromRetryAfter value: String, now: Date) -> TimeInterval? {
        let trimmed = value.trimmingCharacters(in: .whitespaces)
        if let seconds = Int(trimmed), seconds >= 0 { return TimeInterval(seconds) }
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss 'GMT'"
        return formatter.date(from: trimmed).map { max(0, $0.timeIntervalSince(now)) }
    }
}
