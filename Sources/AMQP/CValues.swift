internal import CRabbitMQ
import struct Foundation.Date
import Glibc

/// Memory for the C values of one library call: strings, tables and arrays copied into malloc'd
/// blocks that all go when the arena does. Lives on the connection's thread only.
final class CArena {
    private var blocks: [UnsafeMutableRawPointer] = []

    deinit {
        for block in blocks { free(block) }
    }

    private func allocate(_ size: Int) -> UnsafeMutableRawPointer {
        let block = malloc(max(size, 1))!
        blocks.append(block)
        return block
    }

    func bytes(_ text: String) -> amqp_bytes_t {
        var text = text
        return text.withUTF8 { bytes(UnsafeRawBufferPointer($0)) }
    }

    func bytes(_ buffer: UnsafeRawBufferPointer) -> amqp_bytes_t {
        let block = allocate(buffer.count)
        if let base = buffer.baseAddress, buffer.count > 0 {
            block.copyMemory(from: base, byteCount: buffer.count)
        }
        return amqp_bytes_t(len: buffer.count, bytes: block)
    }

    func bytes(_ array: [UInt8]) -> amqp_bytes_t {
        array.withUnsafeBytes { bytes($0) }
    }

    func table(_ table: AMQPTable) -> amqp_table_t {
        guard !table.isEmpty else { return amqp_table_t(num_entries: 0, entries: nil) }
        let entries = allocate(MemoryLayout<amqp_table_entry_t>.stride * table.count)
            .bindMemory(to: amqp_table_entry_t.self, capacity: table.count)
        // Sorted keys: the same headers always encode to the same bytes.
        for (index, key) in table.keys.sorted().enumerated() {
            entries[index] = amqp_table_entry_t(key: bytes(key), value: fieldValue(table[key]!))
        }
        return amqp_table_t(num_entries: Int32(table.count), entries: entries)
    }

    func fieldValue(_ value: AMQPFieldValue) -> amqp_field_value_t {
        var field = amqp_field_value_t()
        switch value {
        case .bool(let flag):
            field.kind = kind(AMQP_FIELD_KIND_BOOLEAN)
            field.value.boolean = flag ? 1 : 0
        case .int8(let number):
            field.kind = kind(AMQP_FIELD_KIND_I8)
            field.value.i8 = number
        case .uint8(let number):
            field.kind = kind(AMQP_FIELD_KIND_U8)
            field.value.u8 = number
        case .int16(let number):
            field.kind = kind(AMQP_FIELD_KIND_I16)
            field.value.i16 = number
        case .uint16(let number):
            field.kind = kind(AMQP_FIELD_KIND_U16)
            field.value.u16 = number
        case .int32(let number):
            field.kind = kind(AMQP_FIELD_KIND_I32)
            field.value.i32 = number
        case .uint32(let number):
            field.kind = kind(AMQP_FIELD_KIND_U32)
            field.value.u32 = number
        case .int64(let number):
            field.kind = kind(AMQP_FIELD_KIND_I64)
            field.value.i64 = number
        case .float(let number):
            field.kind = kind(AMQP_FIELD_KIND_F32)
            field.value.f32 = number
        case .double(let number):
            field.kind = kind(AMQP_FIELD_KIND_F64)
            field.value.f64 = number
        case .decimal(let scale, let decimalValue):
            field.kind = kind(AMQP_FIELD_KIND_DECIMAL)
            field.value.decimal = amqp_decimal_t(decimals: scale, value: decimalValue)
        case .string(let text):
            field.kind = kind(AMQP_FIELD_KIND_UTF8)
            field.value.bytes = bytes(text)
        case .bytes(let data):
            field.kind = kind(AMQP_FIELD_KIND_BYTES)
            field.value.bytes = bytes(data)
        case .timestamp(let date):
            field.kind = kind(AMQP_FIELD_KIND_TIMESTAMP)
            field.value.u64 = wireSeconds(date)
        case .table(let nested):
            field.kind = kind(AMQP_FIELD_KIND_TABLE)
            field.value.table = table(nested)
        case .array(let elements):
            field.kind = kind(AMQP_FIELD_KIND_ARRAY)
            let storage = allocate(MemoryLayout<amqp_field_value_t>.stride * elements.count)
                .bindMemory(to: amqp_field_value_t.self, capacity: max(elements.count, 1))
            for (index, element) in elements.enumerated() { storage[index] = fieldValue(element) }
            field.value.array = amqp_array_t(num_entries: Int32(elements.count), entries: storage)
        case .void:
            field.kind = kind(AMQP_FIELD_KIND_VOID)
        }
        return field
    }

    func properties(_ properties: AMQPProperties) -> amqp_basic_properties_t {
        var c = amqp_basic_properties_t()
        var flags: UInt32 = 0
        if let value = properties.contentType {
            flags |= PropertyFlag.contentType
            c.content_type = bytes(value)
        }
        if let value = properties.contentEncoding {
            flags |= PropertyFlag.contentEncoding
            c.content_encoding = bytes(value)
        }
        if let value = properties.headers {
            flags |= PropertyFlag.headers
            c.headers = table(value)
        }
        if let value = properties.deliveryMode {
            flags |= PropertyFlag.deliveryMode
            c.delivery_mode = value.rawValue
        }
        if let value = properties.priority {
            flags |= PropertyFlag.priority
            c.priority = value
        }
        if let value = properties.correlationID {
            flags |= PropertyFlag.correlationID
            c.correlation_id = bytes(value)
        }
        if let value = properties.replyTo {
            flags |= PropertyFlag.replyTo
            c.reply_to = bytes(value)
        }
        if let value = properties.expiration {
            flags |= PropertyFlag.expiration
            c.expiration = bytes(value)
        }
        if let value = properties.messageID {
            flags |= PropertyFlag.messageID
            c.message_id = bytes(value)
        }
        if let value = properties.timestamp {
            flags |= PropertyFlag.timestamp
            c.timestamp = wireSeconds(value)
        }
        if let value = properties.type {
            flags |= PropertyFlag.type
            c.type = bytes(value)
        }
        if let value = properties.userID {
            flags |= PropertyFlag.userID
            c.user_id = bytes(value)
        }
        if let value = properties.appID {
            flags |= PropertyFlag.appID
            c.app_id = bytes(value)
        }
        if let value = properties.clusterID {
            flags |= PropertyFlag.clusterID
            c.cluster_id = bytes(value)
        }
        c._flags = flags
        return c
    }
}

private func kind(_ kind: amqp_field_value_kind_t) -> UInt8 { UInt8(truncatingIfNeeded: kind.rawValue) }

/// The presence bits of amqp_basic_properties_t (AMQP_BASIC_*_FLAG).
enum PropertyFlag {
    static let contentType: UInt32 = 1 << 15
    static let contentEncoding: UInt32 = 1 << 14
    static let headers: UInt32 = 1 << 13
    static let deliveryMode: UInt32 = 1 << 12
    static let priority: UInt32 = 1 << 11
    static let correlationID: UInt32 = 1 << 10
    static let replyTo: UInt32 = 1 << 9
    static let expiration: UInt32 = 1 << 8
    static let messageID: UInt32 = 1 << 7
    static let timestamp: UInt32 = 1 << 6
    static let type: UInt32 = 1 << 5
    static let userID: UInt32 = 1 << 4
    static let appID: UInt32 = 1 << 3
    static let clusterID: UInt32 = 1 << 2
}

// MARK: - From C

extension String {
    init(amqpBytes: amqp_bytes_t) {
        guard amqpBytes.len > 0, let base = amqpBytes.bytes else {
            self = ""
            return
        }
        self = String(decoding: UnsafeRawBufferPointer(start: base, count: amqpBytes.len), as: UTF8.self)
    }
}

extension Array where Element == UInt8 {
    init(amqpBytes: amqp_bytes_t) {
        guard amqpBytes.len > 0, let base = amqpBytes.bytes else {
            self = []
            return
        }
        self = Array(UnsafeRawBufferPointer(start: base, count: amqpBytes.len))
    }
}

func swiftTable(_ table: amqp_table_t) -> AMQPTable {
    var result = AMQPTable(minimumCapacity: Int(table.num_entries))
    for index in 0..<Int(table.num_entries) {
        let entry = table.entries[index]
        result[String(amqpBytes: entry.key)] = swiftFieldValue(entry.value)
    }
    return result
}

func swiftFieldValue(_ field: amqp_field_value_t) -> AMQPFieldValue {
    switch UInt32(field.kind) {
    case AMQP_FIELD_KIND_BOOLEAN.rawValue: return .bool(field.value.boolean != 0)
    case AMQP_FIELD_KIND_I8.rawValue: return .int8(field.value.i8)
    case AMQP_FIELD_KIND_U8.rawValue: return .uint8(field.value.u8)
    case AMQP_FIELD_KIND_I16.rawValue: return .int16(field.value.i16)
    case AMQP_FIELD_KIND_U16.rawValue: return .uint16(field.value.u16)
    case AMQP_FIELD_KIND_I32.rawValue: return .int32(field.value.i32)
    case AMQP_FIELD_KIND_U32.rawValue: return .uint32(field.value.u32)
    case AMQP_FIELD_KIND_I64.rawValue: return .int64(field.value.i64)
    case AMQP_FIELD_KIND_U64.rawValue: return .int64(Int64(bitPattern: field.value.u64))
    case AMQP_FIELD_KIND_F32.rawValue: return .float(field.value.f32)
    case AMQP_FIELD_KIND_F64.rawValue: return .double(field.value.f64)
    case AMQP_FIELD_KIND_DECIMAL.rawValue:
        return .decimal(scale: field.value.decimal.decimals, value: field.value.decimal.value)
    case AMQP_FIELD_KIND_UTF8.rawValue: return .string(String(amqpBytes: field.value.bytes))
    case AMQP_FIELD_KIND_BYTES.rawValue: return .bytes([UInt8](amqpBytes: field.value.bytes))
    case AMQP_FIELD_KIND_TIMESTAMP.rawValue:
        return .timestamp(Date(timeIntervalSince1970: Double(field.value.u64)))
    case AMQP_FIELD_KIND_TABLE.rawValue: return .table(swiftTable(field.value.table))
    case AMQP_FIELD_KIND_ARRAY.rawValue:
        let array = field.value.array
        return .array((0..<Int(array.num_entries)).map { swiftFieldValue(array.entries[$0]) })
    default: return .void
    }
}

func swiftProperties(_ c: amqp_basic_properties_t) -> AMQPProperties {
    let flags = c._flags
    func has(_ flag: UInt32) -> Bool { flags & flag != 0 }
    var properties = AMQPProperties()
    if has(PropertyFlag.contentType) { properties.contentType = String(amqpBytes: c.content_type) }
    if has(PropertyFlag.contentEncoding) {
        properties.contentEncoding = String(amqpBytes: c.content_encoding)
    }
    if has(PropertyFlag.headers) { properties.headers = swiftTable(c.headers) }
    if has(PropertyFlag.deliveryMode) {
        properties.deliveryMode = AMQPProperties.DeliveryMode(rawValue: c.delivery_mode)
    }
    if has(PropertyFlag.priority) { properties.priority = c.priority }
    if has(PropertyFlag.correlationID) {
        properties.correlationID = String(amqpBytes: c.correlation_id)
    }
    if has(PropertyFlag.replyTo) { properties.replyTo = String(amqpBytes: c.reply_to) }
    if has(PropertyFlag.expiration) { properties.expiration = String(amqpBytes: c.expiration) }
    if has(PropertyFlag.messageID) { properties.messageID = String(amqpBytes: c.message_id) }
    if has(PropertyFlag.timestamp) {
        properties.timestamp = Date(timeIntervalSince1970: Double(c.timestamp))
    }
    if has(PropertyFlag.type) { properties.type = String(amqpBytes: c.type) }
    if has(PropertyFlag.userID) { properties.userID = String(amqpBytes: c.user_id) }
    if has(PropertyFlag.appID) { properties.appID = String(amqpBytes: c.app_id) }
    if has(PropertyFlag.clusterID) { properties.clusterID = String(amqpBytes: c.cluster_id) }
    return properties
}

/// A date as an AMQP timestamp (whole seconds since 1970, unsigned). A date read from the wire may
/// be anything up to 2^64 - 1 s, which a Double rounds past `UInt64.max`: kept in range, never a trap.
func wireSeconds(_ date: Date) -> UInt64 {
    let seconds = date.timeIntervalSince1970.rounded(.down)
    guard seconds > 0 else { return 0 }
    return UInt64(exactly: seconds) ?? UInt64.max
}
