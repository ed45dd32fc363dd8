/// Renders `/metrics` (contract §12.1): first the probes set the gauges a scrape reads from
/// elsewhere (the database, the key ring, the password pool), then every series of the
/// factory and the process's own are written in the format the scraper asked for.
public struct MetricsEndpoint: Sendable {
    public typealias Probe = @Sendable () async -> Void

    let factory: TesseraMetricsFactory
    let probes: [Probe]

    public init(factory: TesseraMetricsFactory, probes: [Probe]) {
        self.factory = factory
        self.probes = probes
    }

    /// The exposition for a request whose `Accept` header is `accept`, and its media type.
    public func scrape(accept: String?) async -> (contentType: String, body: String) {
        for probe in probes { await probe() }
        let format = Exposition(accept: accept)
        return (format.contentType, format.render(factory.exposition() + ProcessMetrics.exposition()))
    }
}
