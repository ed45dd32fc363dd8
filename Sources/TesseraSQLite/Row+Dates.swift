import Foundation
import GRDB

extension Row {
    /// A time column (seconds since the epoch, REAL).
    func date(_ column: String) -> Date {
        Date(timeIntervalSince1970: self[column])
    }

    /// A nullable time column.
    func optionalDate(_ column: String) -> Date? {
        (self[column] as Double?).map(Date.init(timeIntervalSince1970:))
    }
}

extension Date {
    /// The stored form of a time.
    var stored: Double { timeIntervalSince1970 }
}
