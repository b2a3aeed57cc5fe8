#!/usr/bin/env node
/*
 * A line-oriented driver around the LwM2M *server* of the npm package lwm2m-node-lib 1.4.0 (software
 * we did not write), for lwm2m-fleet's interop tests (tests/interop/nodelib.py drives it).
 *
 *   node nodelib_server.js [--host 127.0.0.1] [--port 0] [--write-format text/plain]
 *                          [--accept-format text/plain] [--log-level FATAL]
 *                          [--lifetime-check-ms 1000] [--command-timeout-ms 20000]
 *
 * stdout: one JSON object per line for every event:
 *   {"event":"ready","host":..,"port":..}
 *   {"event":"registration","endpoint":..,"lifetime":..,"version":..,"binding":..,"links":..,
 *    "device_id":..,"address":..,"port":..,"location":..}
 *   {"event":"update","endpoint":..,"lifetime":..,"links":..,"device_id":..,"address":..,"port":..}
 *   {"event":"unregistration","endpoint":..,"device_id":..}
 *   {"event":"expiration","endpoint":..,"device_id":..}          (lifetime ran out)
 *   {"event":"notification","endpoint":..,"path":..,"value":..}
 *   {"event":"result","id":..,"ok":true,"value":..}
 *   {"event":"result","id":..,"ok":false,"error":{"name":..,"message":..,"code":..}}
 *   {"event":"error","message":..}                                (a line that is no command, a crash)
 * stdin: one JSON command per line, answered by a "result" event with the same id:
 *   {"id":1,"op":"read","endpoint":"dev1","path":"/3/0/0"}
 *   {"id":2,"op":"write","endpoint":"dev1","path":"/3442/0/110","value":"Hello"}
 *   {"id":3,"op":"execute","endpoint":"dev1","path":"/3442/0/2","args":null}
 *   {"id":4,"op":"observe","endpoint":"dev1","path":"/3303/0/5700"}
 *   {"id":5,"op":"cancel","endpoint":"dev1","path":"/3303/0/5700"}
 *   {"id":6,"op":"discover","endpoint":"dev1","path":"/3/0"}
 *   {"id":7,"op":"write-attributes","endpoint":"dev1","path":"/3/0/9","attributes":{"pmin":1}}
 *   {"id":8,"op":"list"}
 * Every error becomes a JSON line; the process exits when stdin closes. The device registry is the
 * library's in-memory one (no MongoDB). The JSON-lines plumbing and the socket binding are
 * line_driver.js's, shared with shepherd_server.js.
 *
 * Two adaptations, both outside the library's own logic: its CoAP server and the per-request
 * agents are bound to --host (the library would listen on every interface), and the unregistration
 * handler re-arms the library's lifetime check with a real interval (lwm2m-server.js passes
 * `config.lifetimeCheckInterval` of the wrong object there, which polls every millisecond).
 */
'use strict';

var coap = require('coap'),
    logger = require('logops'),
    lwm2mServer = require('lwm2m-node-lib').server,
    driver = require('./line_driver'),
    emit = driver.emit;

var options = {
    host: '127.0.0.1',
    port: 0,
    writeFormat: 'text/plain',
    acceptFormat: 'text/plain',
    logLevel: 'FATAL',
    lifetimeCheckMs: 1000,
    commandTimeoutMs: 20000
};

var FLAGS = {
    '--host': ['host', String],
    '--port': ['port', Number],
    '--write-format': ['writeFormat', String],
    '--accept-format': ['acceptFormat', String],
    '--log-level': ['logLevel', String],
    '--lifetime-check-ms': ['lifetimeCheckMs', Number],
    '--command-timeout-ms': ['commandTimeoutMs', Number]
};

var OPERATIONS = ['list', 'read', 'write', 'execute', 'observe', 'cancel', 'discover',
    'write-attributes'];

var serverInfo = null;

function parsePath(path, minimum) {
    var parts = String(path || '').split('/').filter(function (part) {
        return part !== '';
    });

    if (parts.length < minimum || parts.length > 3 || !parts.every(function (part) {
        return /^\d+$/.test(part);
    })) {
        throw new Error('bad path ' + JSON.stringify(path) +
            (minimum === 3 ? ': need /object/instance/resource' : ''));
    }
    return parts;
}

function withDevice(endpoint, callback) {
    lwm2mServer.getDevice(endpoint, function (error, device) {
        if (error) {
            callback(error);
        } else {
            callback(null, device);
        }
    });
}

function runCommand(command, done) {
    var op = command.op,
        path;

    if (op === 'list') {
        lwm2mServer.listDevices(function (error, devices) {
            done(error, (devices || []).map(function (device) {
                return {
                    endpoint: device.name, device_id: device.id, lifetime: device.lifetime,
                    address: device.address, port: device.port
                };
            }));
        });
        return;
    }
    if (OPERATIONS.indexOf(op) < 0) {
        throw new Error('unknown op ' + JSON.stringify(op) + ': use one of ' + OPERATIONS.join(' '));
    }
    if (typeof command.endpoint !== 'string') {
        throw new Error('command needs an "endpoint"');
    }
    path = parsePath(command.path, op === 'discover' || op === 'write-attributes' ? 1 : 3);

    withDevice(command.endpoint, function (error, device) {
        if (error) {
            done(error);
            return;
        }
        var args = [device.id].concat(path);

        try {
            switch (op) {
            case 'read':
                lwm2mServer.read.apply(null, args.concat([done]));
                break;
            case 'write':
                lwm2mServer.write.apply(null, args.concat([String(command.value), done]));
                break;
            case 'execute':
                lwm2mServer.execute.apply(
                    null, args.concat([command.args === undefined ? null : command.args, done]));
                break;
            case 'observe':
                lwm2mServer.observe.apply(null, args.concat([function (value) {
                    emit({
                        event: 'notification', endpoint: command.endpoint,
                        path: '/' + path.join('/'), value: value
                    });
                }, done]));
                break;
            case 'cancel':
                lwm2mServer.cancelObserver.apply(null, args.concat([done]));
                break;
            case 'discover':
                lwm2mServer.discover.apply(null, args.concat([done]));
                break;
            case 'write-attributes':
                while (args.length < 4) {
                    args.push(undefined);
                }
                lwm2mServer.writeAttributes.apply(null, args.concat([command.attributes || {}, done]));
                break;
            default:
                done(new Error('unknown op ' + JSON.stringify(op)));
            }
        } catch (thrown) {
            done(thrown);
        }
    });
}

function setHandlers() {
    lwm2mServer.setHandler(serverInfo, 'registration',
        function (endpoint, lifetime, version, binding, payload, callback) {
            lwm2mServer.getDevice(endpoint, function (error, device) {
                emit({
                    event: 'registration', endpoint: endpoint, lifetime: lifetime, version: version,
                    binding: binding, links: payload,
                    device_id: device ? device.id : null,
                    address: device ? device.address : null,
                    port: device ? device.port : null,
                    location: device ? '/rd/' + device.id : null
                });
                callback();
            });
        });
    lwm2mServer.setHandler(serverInfo, 'updateRegistration', function (device, payload, callback) {
        emit({
            event: 'update', endpoint: device.name, lifetime: device.lifetime, links: payload,
            device_id: device.id, address: device.address, port: device.port
        });
        callback();
    });
    lwm2mServer.setHandler(serverInfo, 'unregistration', function (device, callback) {
        emit({event: 'unregistration', endpoint: device.name, device_id: device.id});
        callback();
    });
    // see the header: re-arm the lifetime check with a real interval and its own event
    lwm2mServer.getRegistry().checkLifetime(options.lifetimeCheckMs, function (device, callback) {
        emit({event: 'expiration', endpoint: device.name, device_id: device.id});
        callback();
    });
}

/* the library's stop throws on an observation whose device answered with an error (it calls
 * close() on a plain response): the stopper exits anyway, at the latest after a second */
var stop = driver.stopper(function (exit) {
    if (!serverInfo) {
        exit();
        return;
    }
    lwm2mServer.stop(serverInfo, exit);
});

function answer(value) {
    return {value: value === undefined ? null : value};
}

function main() {
    var config;

    driver.parseOrExit(process.argv.slice(2), FLAGS, options,
        'nodelib_server.js ' + Object.keys(FLAGS).join(' X ') + ' X');
    logger.setStream(process.stderr);
    logger.setLevel(options.logLevel);
    // keep the library's sockets on --host: its server would listen on every interface, and
    // the agent it creates per request would bind to the wildcard address on first send
    driver.bindSockets(coap, options.host);

    config = {
        port: options.port,
        lifetimeCheckInterval: options.lifetimeCheckMs,
        udpWindow: 100,
        defaultType: 'Device',
        logLevel: options.logLevel,
        ipProtocol: options.host.indexOf(':') >= 0 ? 'udp6' : 'udp4',
        serverProtocol: options.host.indexOf(':') >= 0 ? 'udp6' : 'udp4',
        // the library's own names for the pre-release LwM2M content-format numbers
        formats: [
            {name: 'lightweightm2m/text', value: 1541},
            {name: 'application-vnd-oma-lwm2m/text', value: 1541},
            {name: 'application-vnd-oma-lwm2m/tlv', value: 1542},
            {name: 'application-vnd-oma-lwm2m/json', value: 1543},
            {name: 'application-vnd-oma-lwm2m/opaque', value: 1544}
        ],
        writeFormat: options.writeFormat,
        defaultAcceptFormat: options.acceptFormat || undefined
    };

    driver.reportCrashes();

    lwm2mServer.start(config, function (error, info) {
        if (error) {
            emit({event: 'error', message: 'start failed: ' + driver.describeError(error).message});
            process.exit(1);
        }
        serverInfo = info;
        // the library sends its requests to itself as a CoAP proxy at config.port: with port 0
        // it must learn the port the system chose
        config.port = info.server._sock.address().port;
        setHandlers();
        emit({event: 'ready', host: options.host, port: config.port});

        driver.serveCommands(runCommand, options.commandTimeoutMs, answer, stop);
    });
}

main();
