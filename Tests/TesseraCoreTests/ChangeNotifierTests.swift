import Foundation
import Testing
import TesseraCore

@Suite("Change notifier")
struct ChangeNotifierTests {
    @Test("a change between looking and waiting is not lost: the wait returns at once")
    func noLostWakeUp() async {
        let notifier = ChangeNotifier()
        let seen = notifier.generation
        notifier.notify()
        let started = ContinuousClock.now
        await notifier.wait(beyond: seen, seconds: 30)
        #expect(ContinuousClock.now - started < .seconds(10))
        #expect(notifier.generation == seen + 1)
    }

    @Test("every waiter wakes on one change; with none, the wait ends at its timeout")
    func wakesAll() async {
        let notifier = ChangeNotifier()
        let seen = notifier.generation
        await withTaskGroup(of: Void.self) { group in
            for _ in 0..<20 { group.addTask { await notifier.wait(beyond: seen, seconds: 30) } }
            try? await Task.sleep(for: .milliseconds(50))
            notifier.notify()
        }
        await notifier.wait(beyond: notifier.generation, seconds: 0.05)
    }

    @Test("a cancelled waiter returns")
    func cancellation() async {
        let notifier = ChangeNotifier()
        let waiter = Task { await notifier.wait(beyond: notifier.generation, seconds: 30) }
        try? await Task.sleep(for: .milliseconds(20))
        waiter.cancel()
        await waiter.value
    }
}
