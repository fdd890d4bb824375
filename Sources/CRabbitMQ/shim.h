// The C shim over rabbitmq-c: only what Swift cannot call directly.
#ifndef GOVBUS_CRABBITMQ_SHIM_H
#define GOVBUS_CRABBITMQ_SHIM_H

#include <amqp.h>
#include <amqp_framing.h>
#include <amqp_tcp_socket.h>
#include <amqp_ssl_socket.h>
#include <poll.h>
#include <sys/eventfd.h>

// amqp_login_with_properties is variadic: Swift cannot call it. This fixes the SASL mechanism to
// PLAIN and passes the client properties, in which the caller asks for connection.blocked
// notifications (capabilities.connection.blocked = true) among the other capabilities.
static inline amqp_rpc_reply_t govbus_amqp_login_plain(amqp_connection_state_t state,
                                                       const char *vhost, int channel_max,
                                                       int frame_max, int heartbeat,
                                                       const amqp_table_t *client_properties,
                                                       const char *user, const char *password) {
    return amqp_login_with_properties(state, vhost, channel_max, frame_max, heartbeat,
                                      client_properties, AMQP_SASL_METHOD_PLAIN, user, password);
}

#endif
