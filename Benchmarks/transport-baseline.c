/*
 * The raw rabbitmq-c baseline of `govbus bench transport`: the same work as the Swift benchmark,
 * with nothing but the C library. One publisher connection (persistent messages, publisher
 * confirms, at most WINDOW unconfirmed) and one consumer connection (prefetch PREFETCH, one
 * basic.ack per message), each on its own thread. Every body starts with the CLOCK_MONOTONIC time
 * of its publish, so the consumer measures publish-to-consume latency.
 *
 *   transport-baseline URL QUEUE MESSAGES SIZE WINDOW PREFETCH
 *
 * Prints one JSON object: messages, seconds, throughput_msgs_per_s, p50_ms, p99_ms.
 */
#include <amqp.h>
#include <amqp_tcp_socket.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char *queue_name;
static long message_count;
static long message_size;
static int window;
static int prefetch;
static struct amqp_connection_info url;
static double *latencies_ms;
static uint64_t first_publish_ns;
static uint64_t last_consume_ns;

static uint64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void die(const char *what, int status) {
    fprintf(stderr, "transport-baseline: %s: %s\n", what, amqp_error_string2(status));
    exit(1);
}

static void die_on_reply(const char *what, amqp_rpc_reply_t reply) {
    if (reply.reply_type == AMQP_RESPONSE_NORMAL) return;
    if (reply.reply_type == AMQP_RESPONSE_LIBRARY_EXCEPTION) die(what, reply.library_error);
    fprintf(stderr, "transport-baseline: %s: the broker refused (method 0x%08x)\n", what, reply.reply.id);
    exit(1);
}

static amqp_connection_state_t open_connection(void) {
    amqp_connection_state_t state = amqp_new_connection();
    amqp_socket_t *socket = amqp_tcp_socket_new(state);
    int status = amqp_socket_open(socket, url.host, url.port);
    if (status != AMQP_STATUS_OK) die("connect", status);
    die_on_reply("login", amqp_login(state, url.vhost, 0, 131072, 0, AMQP_SASL_METHOD_PLAIN, url.user, url.password));
    amqp_channel_open(state, 1);
    die_on_reply("channel.open", amqp_get_rpc_reply(state));
    return state;
}

static void *publish(void *unused) {
    (void)unused;
    amqp_connection_state_t state = open_connection();
    amqp_confirm_select(state, 1);
    die_on_reply("confirm.select", amqp_get_rpc_reply(state));

    char *body = calloc(1, (size_t)message_size);
    memset(body + 8, 'x', (size_t)message_size - 8);
    amqp_basic_properties_t properties;
    properties._flags = AMQP_BASIC_DELIVERY_MODE_FLAG | AMQP_BASIC_CONTENT_TYPE_FLAG;
    properties.delivery_mode = 2;
    properties.content_type = amqp_cstring_bytes("application/octet-stream");
    amqp_bytes_t message = {.len = (size_t)message_size, .bytes = body};

    long sent = 0, confirmed = 0;
    first_publish_ns = now_ns();
    while (confirmed < message_count) {
        while (sent < message_count && sent - confirmed < window) {
            uint64_t stamp = now_ns();
            memcpy(body, &stamp, sizeof stamp);
            int status = amqp_basic_publish(state, 1, amqp_empty_bytes, amqp_cstring_bytes(queue_name), 0, 0,
                                            &properties, message);
            if (status != AMQP_STATUS_OK) die("basic.publish", status);
            sent++;
        }
        amqp_frame_t frame;
        int status = amqp_simple_wait_frame(state, &frame);
        if (status != AMQP_STATUS_OK) die("waiting for confirms", status);
        if (frame.frame_type != AMQP_FRAME_METHOD) continue;
        if (frame.payload.method.id == AMQP_BASIC_ACK_METHOD) {
            amqp_basic_ack_t *ack = frame.payload.method.decoded;
            /* Tags are 1-based and dense, and RabbitMQ confirms them in order on a channel: a
               confirm of tag T means everything up to T is confirmed. */
            if ((long)ack->delivery_tag > confirmed) confirmed = (long)ack->delivery_tag;
        } else if (frame.payload.method.id == AMQP_BASIC_NACK_METHOD) {
            fprintf(stderr, "transport-baseline: the broker nacked a message\n");
            exit(1);
        } else if (frame.payload.method.id == AMQP_CHANNEL_CLOSE_METHOD) {
            fprintf(stderr, "transport-baseline: the broker closed the channel\n");
            exit(1);
        }
        amqp_maybe_release_buffers(state);
    }
    amqp_connection_close(state, AMQP_REPLY_SUCCESS);
    amqp_destroy_connection(state);
    free(body);
    return NULL;
}

static void *consume(void *ready) {
    amqp_connection_state_t state = open_connection();
    amqp_basic_qos(state, 1, 0, (uint16_t)prefetch, 0);
    die_on_reply("basic.qos", amqp_get_rpc_reply(state));
    amqp_basic_consume(state, 1, amqp_cstring_bytes(queue_name), amqp_empty_bytes, 0, 0, 0, amqp_empty_table);
    die_on_reply("basic.consume", amqp_get_rpc_reply(state));
    pthread_mutex_lock(ready);
    pthread_mutex_unlock(ready);

    for (long received = 0; received < message_count; received++) {
        amqp_envelope_t envelope;
        amqp_maybe_release_buffers(state);
        amqp_rpc_reply_t reply = amqp_consume_message(state, &envelope, NULL, 0);
        die_on_reply("consuming", reply);
        uint64_t stamp;
        memcpy(&stamp, envelope.message.body.bytes, sizeof stamp);
        uint64_t now = now_ns();
        latencies_ms[received] = (double)(now - stamp) / 1e6;
        last_consume_ns = now;
        if (amqp_basic_ack(state, 1, envelope.delivery_tag, 0) != AMQP_STATUS_OK) die("basic.ack", -1);
        amqp_destroy_envelope(&envelope);
    }
    amqp_connection_close(state, AMQP_REPLY_SUCCESS);
    amqp_destroy_connection(state);
    return NULL;
}

static int compare(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv) {
    if (argc != 7) {
        fprintf(stderr, "usage: transport-baseline URL QUEUE MESSAGES SIZE WINDOW PREFETCH\n");
        return 2;
    }
    char *url_text = strdup(argv[1]);
    amqp_default_connection_info(&url);
    if (amqp_parse_url(url_text, &url) != AMQP_STATUS_OK) {
        fprintf(stderr, "transport-baseline: bad URL\n");
        return 2;
    }
    queue_name = argv[2];
    message_count = atol(argv[3]);
    message_size = atol(argv[4]) < 8 ? 8 : atol(argv[4]);
    window = atoi(argv[5]);
    prefetch = atoi(argv[6]);
    latencies_ms = calloc((size_t)message_count, sizeof(double));

    /* The consumer is registered before the first publish, as in the Swift benchmark. */
    pthread_mutex_t ready = PTHREAD_MUTEX_INITIALIZER;
    pthread_t consumer, publisher;
    pthread_mutex_lock(&ready);
    pthread_create(&consumer, NULL, consume, &ready);
    struct timespec pause = {0, 200 * 1000000};
    nanosleep(&pause, NULL);
    pthread_mutex_unlock(&ready);
    pthread_create(&publisher, NULL, publish, NULL);
    pthread_join(publisher, NULL);
    pthread_join(consumer, NULL);

    double seconds = (double)(last_consume_ns - first_publish_ns) / 1e9;
    qsort(latencies_ms, (size_t)message_count, sizeof(double), compare);
    printf("{\"messages\":%ld,\"seconds\":%.3f,\"throughput_msgs_per_s\":%.1f,\"p50_ms\":%.3f,\"p99_ms\":%.3f}\n",
           message_count, seconds, (double)message_count / seconds, latencies_ms[message_count / 2],
           latencies_ms[(long)((double)message_count * 0.99)]);
    return 0;
}
