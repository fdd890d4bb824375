/// The new connector in Schemas/asyncapi.yaml: its message on the channels it travels (ingress,
/// the core's queue, retries, dead letters), its inbox, the four operations (the adapter sends,
/// the core receives, the core sends it dossiers, the adapter receives them), the message itself,
/// and the parameters' lists. Each block goes at an anchor line found anew after each insertion;
/// `scripts/check-asyncapi` checks the result.
extension ConnectorScaffold {
    public func addingToAsyncAPI(_ text: String) throws -> String {
        var file = YAMLLines(text)
        try file.insert(tag, before: "defaultContentType: application/json")
        for channel in ["ingress", "coreIngress", "retry1s", "retry10s", "retry1m", "retry10m", "dead", "deadLetters"] {
            try file.insert(messageReference, before: "    bindings:", inSection: "  \(channel):")
        }
        try file.insert(coreIngressBinding, atEndOfList: "    x-govbus-bindings:", inSection: "  coreIngress:")
        if try !file.section("  deliver:", until: "    bindings:", contains: "      portalDossierSubmittedV1:") {
            try file.insert(submittedReference, before: "    bindings:", inSection: "  deliver:")
        }
        try file.insert(inboxChannel, before: "  retry1s:")
        try file.insert(operations, before: "  retryAfter1s:")
        try file.insert(message, before: "  schemas:")
        try file.insert("      - \(messageType)", before: "      examples:", inSection: "    ingressMessageType:")
        if try !file.section("    deliverMessageType:", until: "      examples:", contains: "      - portal.dossier.submitted.v1") {
            try file.insert("      - portal.dossier.submitted.v1", before: "      examples:", inSection: "    deliverMessageType:")
        }
        try file.insert("      - \(name)", before: "      examples:", inSection: "    adapter:")
        return file.text
    }

    private var tag: String {
        """
          - name: \(name)
            description: The \(name) agency's system, reached through the \(name) adapter.
        """
    }

    private var messageReference: String {
        """
              \(asyncAPIKey):
                $ref: '#/components/messages/\(asyncAPIKey)'
        """
    }

    private var coreIngressBinding: String {
        """
            - exchange: govbus.ingress
              routingKey: \(messageType)
        """
    }

    private var submittedReference: String {
        """
              portalDossierSubmittedV1:
                $ref: '#/components/messages/portalDossierSubmittedV1'
        """
    }

    private var inboxChannel: String {
        """
          \(name)Inbox:
            address: govbus.adapter.\(name)
            title: govbus.adapter.\(name)
            summary: Inbox of the \(name) adapter.
            description: Quorum queue bound to `govbus.deliver` with `\(name).#`. Only the \(name) adapter's broker user may
              read it.
            messages:
              portalDossierSubmittedV1:
                $ref: '#/components/messages/portalDossierSubmittedV1'
            bindings:
              amqp:
                is: queue
                queue:
                  name: govbus.adapter.\(name)
                  durable: true
                  exclusive: false
                  autoDelete: false
                  vhost: govbus
                bindingVersion: 0.3.0
            x-govbus-queue-arguments:
              x-queue-type: quorum
            x-govbus-bindings:
            - exchange: govbus.deliver
              routingKey: \(name).#
        """
    }

    private var operations: String {
        """
          send\(typeName)DossierRecorded:
            action: send
            channel:
              $ref: '#/channels/ingress'
            title: The \(name) adapter sends \(messageType)
            summary: The \(name) adapter publishes \(messageType) to govbus.ingress with routing key \(messageType).
            messages:
            - $ref: '#/channels/ingress/messages/\(asyncAPIKey)'
            bindings:
              amqp:
                deliveryMode: 2
                mandatory: true
                timestamp: true
                bindingVersion: 0.3.0
          receive\(typeName)DossierRecorded:
            action: receive
            channel:
              $ref: '#/channels/coreIngress'
            title: The core receives \(messageType)
            summary: The routing core consumes \(messageType) from govbus.core.ingress and records it in the audit log;
              no adapter receives it.
            messages:
            - $ref: '#/channels/coreIngress/messages/\(asyncAPIKey)'
            bindings:
              amqp:
                ack: true
                bindingVersion: 0.3.0
          sendPortalDossierSubmittedTo\(typeName):
            action: send
            channel:
              $ref: '#/channels/deliver'
            title: The core sends portal.dossier.submitted.v1 to the \(name) adapter
            summary: The routing core publishes a copy of portal.dossier.submitted.v1 to govbus.deliver with routing key
              \(name).portal.dossier.submitted.v1.
            messages:
            - $ref: '#/channels/deliver/messages/portalDossierSubmittedV1'
            bindings:
              amqp:
                deliveryMode: 2
                mandatory: true
                timestamp: true
                bindingVersion: 0.3.0
          receivePortalDossierSubmittedBy\(typeName):
            action: receive
            channel:
              $ref: '#/channels/\(name)Inbox'
            title: The \(name) adapter receives portal.dossier.submitted.v1
            summary: The \(name) adapter consumes portal.dossier.submitted.v1 from govbus.adapter.\(name).
            messages:
            - $ref: '#/channels/\(name)Inbox/messages/portalDossierSubmittedV1'
            bindings:
              amqp:
                ack: true
                bindingVersion: 0.3.0
        """
    }

    private var message: String {
        """
            \(asyncAPIKey):
              name: \(messageType)
              title: Dossier recorded by \(name)
              summary: '\(name) → core: The \(name) agency''s system recorded the dossier under its own reference.'
              contentType: application/json
              correlationId:
                $ref: '#/components/correlationIds/dossier'
              headers:
                $ref: '#/components/schemas/envelopeHeaders'
              payload:
                schemaFormat: application/schema+json;version=draft-2020-12
                schema:
                  $ref: ./\(messageType).schema.json
              tags:
              - name: \(name)
              bindings:
                amqp:
                  messageType: \(messageType)
                  bindingVersion: 0.3.0
        """
    }
}

/// A YAML file as lines, edited by whole-line anchors (exact matches), without parsing it: the
/// file keeps its comments, order and layout.
struct YAMLLines {
    private(set) var lines: [String]

    init(_ text: String) {
        lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
    }

    var text: String { lines.joined(separator: "\n") }

    private func index(of line: String, from start: Int = 0) throws -> Int {
        guard let found = lines[min(start, lines.count)...].firstIndex(of: line) else {
            throw ConnectorScaffold.MissingAnchor(description: "asyncapi.yaml has no line '\(line)'\(start > 0 ? " after line \(start)" : "")")
        }
        return found
    }

    mutating func insert(_ block: String, before anchor: String) throws {
        lines.insert(contentsOf: block.split(separator: "\n").map(String.init), at: try index(of: anchor))
    }

    /// The lines of the section that starts at the line `section`: up to the next line indented
    /// no deeper than it (a sibling, or a parent's next key).
    private func range(ofSection section: String) throws -> Range<Int> {
        let start = try index(of: section) + 1
        let depth = section.prefix { $0 == " " }.count
        let end = lines[start...].firstIndex { line in
            !line.trimmingCharacters(in: .whitespaces).isEmpty && line.prefix { $0 == " " }.count <= depth
                && !line.hasPrefix(String(repeating: " ", count: depth) + "- ")
        } ?? lines.endIndex
        return start..<end
    }

    /// Before the first `anchor` of the section `section`.
    mutating func insert(_ block: String, before anchor: String, inSection section: String) throws {
        let range = try range(ofSection: section)
        guard let at = lines[range].firstIndex(of: anchor) else {
            throw ConnectorScaffold.MissingAnchor(description: "asyncapi.yaml: '\(section.trimmingCharacters(in: .whitespaces))' has no line '\(anchor)'")
        }
        lines.insert(contentsOf: block.split(separator: "\n").map(String.init), at: at)
    }

    /// After the items of the list under `list` (items at its indentation, `- `, or deeper) in `section`.
    mutating func insert(_ block: String, atEndOfList list: String, inSection section: String) throws {
        var at = try index(of: list, from: try index(of: section) + 1) + 1
        let indent = String(repeating: " ", count: list.prefix { $0 == " " }.count)
        while at < lines.count, lines[at].hasPrefix(indent + "- ") || lines[at].hasPrefix(indent + "  ") { at += 1 }
        lines.insert(contentsOf: block.split(separator: "\n").map(String.init), at: at)
    }

    /// Whether the section `section` has the line `wanted` before its first `end` line.
    func section(_ section: String, until end: String, contains wanted: String) throws -> Bool {
        let range = try range(ofSection: section)
        let stop = lines[range].firstIndex(of: end) ?? range.upperBound
        return lines[range.lowerBound..<stop].contains(wanted)
    }
}
