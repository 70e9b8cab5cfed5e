/*
 * DynamoDB Local, reachable from this machine only. infra/local/dynamodb_local.py compiles this file
 * (once, into .cache/) and starts every DynamoDB Local of the project through it: make run, the tests,
 * the bench.
 *
 * Why: the jar has no bind option. Its DynamoDBProxyServer builds a Jetty `new Server(port)`, whose one
 * connector listens on every interface, so anyone who could reach the port could read and change every
 * table. This runs the jar's own start-up (ServerRunner.createServerFromCommandLineArgs: the same
 * options, the same handler, the same telemetry switch) and, before the server starts, gives that
 * connector the address Jetty has a setting for (ServerConnector.setHost). The Jetty server is a private
 * field of DynamoDBProxyServer, so it is read by reflection; if a newer jar changes that, this stops
 * with a message instead of listening everywhere.
 *
 * It also refuses (421) a request whose Host header names another host than this machine's loopback
 * (127.0.0.1, localhost or [::1], on any port: a local proxy or an SSH tunnel keeps those). Otherwise a
 * web page whose host name an attacker points at 127.0.0.1 (DNS rebinding) would reach the tables from
 * the developer's own browser as its same origin, where no CORS setting applies.
 */

import java.lang.reflect.Field;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.server.Connector;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.util.Callback;
import software.amazon.dynamodb.services.local.main.ServerRunner;
import software.amazon.dynamodb.services.local.server.DynamoDBProxyServer;

public final class LoopbackDynamoDBLocal {
    static final String HOST = "127.0.0.1";

    public static void main(String[] args) throws Exception {
        DynamoDBProxyServer proxy = ServerRunner.createServerFromCommandLineArgs(args);
        Server jetty = jettyOf(proxy);
        Connector[] connectors = jetty.getConnectors();
        if (connectors.length != 1 || !(connectors[0] instanceof ServerConnector)) {
            fail("expected DynamoDB Local's Jetty server to have one ServerConnector, found " + List.of(connectors));
        }
        ServerConnector connector = (ServerConnector) connectors[0];
        connector.setHost(HOST);
        jetty.setHandler(new LoopbackHostOnly(jetty.getHandler()));
        proxy.start();  // prints why and stops the server when the port is taken
        if (!jetty.isStarted()) {
            System.exit(1);
        }
    }

    private static Server jettyOf(DynamoDBProxyServer proxy) throws IllegalAccessException {
        for (Field field : DynamoDBProxyServer.class.getDeclaredFields()) {
            if (field.getType() == Server.class) {
                field.setAccessible(true);
                return (Server) field.get(proxy);
            }
        }
        fail("DynamoDBProxyServer has no Jetty Server field any more: this DynamoDB Local cannot be bound to " + HOST);
        return null;
    }

    private static void fail(String message) {
        System.err.println("LoopbackDynamoDBLocal: " + message);
        System.exit(2);
    }

    /** Passes on requests addressed to this machine's loopback by name; answers 421 to any other Host. */
    static final class LoopbackHostOnly extends Handler.Wrapper {
        static final Set<String> NAMES = Set.of(HOST, "localhost", "[::1]");

        LoopbackHostOnly(Handler handler) {
            super(handler);
        }

        @Override
        public boolean handle(Request request, Response response, Callback callback) throws Exception {
            String host = request.getHeaders().get(HttpHeader.HOST);
            if (host == null || !NAMES.contains(nameOf(host))) {
                Response.writeError(request, response, callback, 421, "this DynamoDB Local answers only to " + NAMES);
                return true;
            }
            return super.handle(request, response, callback);
        }

        /** "127.0.0.1:8010" -> "127.0.0.1", "[::1]:8010" -> "[::1]", "LocalHost" -> "localhost" */
        static String nameOf(String host) {
            String name = host.trim().toLowerCase(Locale.ROOT);
            int colon = name.lastIndexOf(':');
            return colon > name.lastIndexOf(']') ? name.substring(0, colon) : name;
        }
    }
}
