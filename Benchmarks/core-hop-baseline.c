/*
 * The raw rabbitmq-c baseline of `govbus bench core`: one hop with nothing but the C library, in
 * the place of the routing core. It consumes IN_QUEUE (prefetch PREFETCH), publishes each
 * message as it came (body and properties, persistent) to OUT_QUEUE with publisher confirms, and
 * acks each input once its copy is confirmed, on one connection and one thread, as the core does.
 * The benchmark's own publisher and consumer stand before and after it, as they do for the core.
 *
 *   core-hop-baseline URL IN_QUEUE OUT_QUEUE MESSAGES PREFETCH
 *
 * Exits 0 after MESSAGES messages are forwarded and confirmed; prints their count.
 */
#include <amqp.h>
#include <amqp_tcp_socket.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void die(const char *what, int status) {
    fprintf(stderr, "core-hop-baseline: %s: %s\n", what, amqp_error_string2(status));
    exit(1);
}

static void die_on_reply(const char *what, amqp_rpc_reply_t reply) {
    if (reply.reply_type == AMQP_RESPONSE_NORMAL) return;
    if (reply.reply_type == AMQP_RESPONSE_LIBRARY_EXCEPTION) die(what, reply.library_error);
    fprintf(stderr, "core-hop-baseline: %s: the broker refused (method 0x%08x)\n", what, reply.reply.id);
    exit(1);
}

int main(int argc, char **argv) {
    if (argc != 6) {
        fprintf(stderr, "usage: core-hop-baseline URL IN_QUEUE OUT_QUEUE MESSAGES PREFETCH\n");
        return 2;
    }
    struct amqp_connection_info url;
    char *url_text = strdup(argv[1]);
    amqp_default_connection_info(&url);
    if (amqp_parse_url(url_text, &url) != AMQP_STATUS_OK) {
        fprintf(stderr, "core-hop-baseline: bad URL\n");
        return 2;
    }
    const char *in_queue = argv[2];
    amqp_bytes_t out_queue = amqp_cstring_bytes(argv[3]);
    long message_count = atol(argv[4]);
    int prefetch = atoi(argv[5]);

    amqp_connection_state_t state = amqp_new_connection();
    amqp_socket_t *socket = amqp_tcp_socket_new(state);
    int status = amqp_socket_open(socket, url.host, url.port);
    if (status != AMQP_STATUS_OK) die("connect", status);
    die_on_reply("login", amqp_login(state, url.vhost, 0, 131072, 0, AMQP_SASL_METHOD_PLAIN, url.user, url.password));
    amqp_channel_open(state, 1);
    die_on_reply("channel.open", amqp_get_rpc_reply(state));
    amqp_confirm_select(state, 1);
    die_on_reply("confirm.select", amqp_get_rpc_reply(state));
    amqp_basic_qos(state, 1, 0, (uint16_t)prefetch, 0);
    die_on_reply("basic.qos", amqp_get_rpc_reply(state));
    amqp_basic_consume(state, 1, amqp_cstring_bytes(in_queue), amqp_empty_bytes, 0, 0, 0, amqp_empty_table);
    die_on_reply("basic.consume", amqp_get_rpc_reply(state));

    /* Publish sequence number n forwards the input with delivery tag input_tags[n % prefetch]:
       at most `prefetch` inputs are unacked, so at most that many copies await their confirm. */
    uint64_t *input_tags = calloc((size_t)prefetch + 1, sizeof(uint64_t));
    long forwarded = 0, confirmed = 0;
    while (confirmed < message_count) {
        amqp_maybe_release_buffers(state);
        if (forwarded < message_count) {
            amqp_envelope_t envelope;
            amqp_rpc_reply_t reply = amqp_consume_message(state, &envelope, NULL, 0);
            if (reply.reply_type == AMQP_RESPONSE_NORMAL) {
                amqp_basic_properties_t properties = envelope.message.properties;
                properties._flags |= AMQP_BASIC_DELIVERY_MODE_FLAG;
                properties.delivery_mode = 2;
                status = amqp_basic_publish(state, 1, amqp_empty_bytes, out_queue, 0, 0, &properties,
                                            envelope.message.body);
                if (status != AMQP_STATUS_OK) die("basic.publish", status);
                forwarded++;
                input_tags[forwarded % ((long)prefetch + 1)] = envelope.delivery_tag;
                amqp_destroy_envelope(&envelope);
                continue;
            }
            if (reply.reply_type != AMQP_RESPONSE_LIBRARY_EXCEPTION || reply.library_error != AMQP_STATUS_UNEXPECTED_STATE)
                die_on_reply("consuming", reply);
        }
        /* Not a delivery: a confirm, or the broker closing something. */
        amqp_frame_t frame;
        status = amqp_simple_wait_frame(state, &frame);
        if (status != AMQP_STATUS_OK) die("waiting for confirms", status);
        if (frame.frame_type != AMQP_FRAME_METHOD) continue;
        if (frame.payload.method.id == AMQP_BASIC_ACK_METHOD) {
            amqp_basic_ack_t *ack = frame.payload.method.decoded;
            long through = (long)ack->delivery_tag;
            if (through <= confirmed) continue;
            /* Inputs arrive and are forwarded in order: the input of the highest confirmed copy,
               acked with `multiple`, settles every input before it. */
            if (amqp_basic_ack(state, 1, input_tags[through % ((long)prefetch + 1)], 1) != AMQP_STATUS_OK)
                die("basic.ack", -1);
            confirmed = through;
        } else if (frame.payload.method.id == AMQP_BASIC_NACK_METHOD) {
            fprintf(stderr, "core-hop-baseline: the broker nacked a message\n");
            return 1;
        } else if (frame.payload.method.id == AMQP_CHANNEL_CLOSE_METHOD ||
                   frame.payload.method.id == AMQP_CONNECTION_CLOSE_METHOD) {
            fprintf(stderr, "core-hop-baseline: the broker closed the channel or connection\n");
            return 1;
        }
    }
    amqp_connection_close(state, AMQP_REPLY_SUCCESS);
    amqp_destroy_connection(state);
    printf("{\"forwarded\":%ld}\n", forwarded);
    return 0;
}
