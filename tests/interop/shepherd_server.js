#!/usr/bin/env node
/*
 * A line-oriented driver around the LwM2M server of the npm package coap-shepherd 0.2.5 (software
 * we did not write), for lwm2m-fleet's interop tests (tests/interop/shepherd.py drives it).
 *
 *   node shepherd_server.js --db DIR [--host 127.0.0.1] [--command-timeout-ms 20000]
 *
 * stdout: one JSON object per line for every event:
 *   {"event":"ready","host":..,"port":..}
 *   {"event":"request","method":..,"url":..,"payload":..,"address":..,"port":..}  (each one received)
 *   {"event":"answer","method":..,"url":..,"code":..,"location":..}   (coap-shepherd's answer to it)
 *   {"event":"registration","endpoint":..,"lifetime":..,"version":..,"objects":..,"client_id":..,
 *    "location":..,"address":..,"port":..}   (devIncoming: after the library read every object)
 *   {"event":"update","endpoint":..,"changed":{..}}                   (devUpdate)
 *   {"event":"status","endpoint":..,"status":"online"|"offline"|"sleep"}
 *   {"event":"unregistration","endpoint":..}                          (devLeaving)
 *   {"event":"notification","endpoint":..,"path":..,"value":..}       (devNotify)
 *   {"event":"result","id":..,"ok":true,"status":"2.05","value":..}
 *   {"event":"result","id":..,"ok":false,"error":{"name":..,"message":..,"code":..}}
 *   {"event":"error","message":..}              (an error the library emitted, a crash, a bad line)
 * stdin: one JSON command per line, answered by a "result" event with the same id:
 *   {"id":1,"op":"read","endpoint":"dev1","path":"/3/0/0"}
 *   {"id":2,"op":"write","endpoint":"dev1","path":"/3/0/13","value":1700000000}
 *   {"id":3,"op":"execute","endpoint":"dev1","path":"/3442/0/2","args":[]}
 *   {"id":4,"op":"observe","endpoint":"dev1","path":"/3303/0/5700"}
 *   {"id":5,"op":"cancel","endpoint":"dev1","path":"/3303/0/5700"}
 *   {"id":6,"op":"discover","endpoint":"dev1","path":"/3/0"}
 *   {"id":7,"op":"write-attributes","endpoint":"dev1","path":"/3303/0/5700","attributes":{"pmin":1}}
 *   {"id":8,"op":"list"}
 * The process exits when stdin closes. The JSON-lines plumbing and the socket binding are
 * line_driver.js's, shared with nodelib_server.js.
 *
 * Adaptations, all outside the library's request handling: its database (nedb) lives in --db,
 * not inside node_modules; its CoAP server listens on --host and a port the system chooses (the
 * library would listen on every interface, port 5683), and the agents it makes per observation
 * bind to --host too; the start-up look-up of the machine's active network interface (package
 * `network`, which runs system tools) is replaced by --host, which the library only uses to
 * describe itself; joining is permitted for the whole run (the library refuses every Register
 * with 4.05 until permitJoin is called).
 */
'use strict';

var path = require('path'),
    driver = require('./line_driver'),
    emit = driver.emit;

/* the library's own copy of node-coap (0.21), not lwm2m-node-lib's (0.22) beside it */
var LIBRARY = path.dirname(require.resolve('coap-shepherd/package.json')),
    coap = require(require.resolve('coap', {paths: [LIBRARY]})),
    Q = require(require.resolve('q', {paths: [LIBRARY]}));

var options = {host: '127.0.0.1', db: null, commandTimeoutMs: 20000};

var FLAGS = {
    '--host': ['host', String],
    '--db': ['db', String],
    '--command-timeout-ms': ['commandTimeoutMs', Number]
};

var OPERATIONS = {
    read: function (cnode, command) { return cnode.readReq(command.path); },
    write: function (cnode, command) { return cnode.writeReq(command.path, command.value); },
    execute: function (cnode, command) { return cnode.executeReq(command.path, command.args || []); },
    observe: function (cnode, command) { return cnode.observeReq(command.path); },
    cancel: function (cnode, command) { return cnode.cancelObserveReq(command.path); },
    discover: function (cnode, command) { return cnode.discoverReq(command.path); },
    'write-attributes': function (cnode, command) {
        return cnode.writeAttrsReq(command.path, command.attributes || {});
    }
};

var shepherd = null;

function requireDb(parsed) {
    if (!parsed.db) {
        throw new Error('--db DIR is required (the library\'s database folder)');
    }
}

/* The library's settings are read when it is first required: set them before. */
function configure() {
    var config = require('coap-shepherd/lib/config');

    config.ip = options.host;
    config.port = 0;
    config.connectionType = options.host.indexOf(':') >= 0 ? 'udp6' : 'udp4';
    config.defaultDbFolder = path.resolve(options.db);
    config.defaultDbPath = path.join(config.defaultDbFolder, 'coap.db');
}

/* Sockets on --host; every request and the library's answer to it reported as events. */
function adaptSockets() {
    var init = require('coap-shepherd/lib/init'),
        serverStart = init._coapServerStart;

    driver.bindSockets(coap, options.host, function (server) {
        server.on('request', reportRequest);  // before the library's listener: sees it first
    });
    init._coapServerStart = function (shep) {
        return serverStart.call(init, shep).then(function (server) {
            shep._net.port = server._sock.address().port;  // the port the system chose
            return server;
        });
    };
    init._updateNetInfo = function (shep) {
        shep._net.intf = 'lo';
        shep._net.ip = options.host;
        return Q.resolve(shep._net);
    };
}

function reportRequest(req, rsp) {
    var end = rsp.end,
        location = [];

    emit({
        event: 'request', method: req.method, url: req.url,
        payload: req.payload ? req.payload.toString() : '',
        address: req.rsinfo.address, port: req.rsinfo.port
    });
    rsp.setOption = (function (setOption) {
        return function (name, value) {
            if (name === 'Location-Path') {
                location = [].concat(value).map(String);
            }
            return setOption.apply(rsp, arguments);
        };
    }(rsp.setOption));
    rsp.end = function () {
        emit({
            event: 'answer', method: req.method, url: req.url, code: rsp.code,
            location: location.length ? '/' + location.join('/') : null
        });
        return end.apply(rsp, arguments);
    };
}

function describeNode(cnode) {
    return {
        endpoint: cnode.clientName, lifetime: cnode.lifetime, version: cnode.version,
        objects: cnode.objList, client_id: cnode.clientId, location: cnode.locationPath,
        address: cnode.ip, port: cnode.port, status: cnode.status
    };
}

function onIndication(message) {
    var cnode = message.cnode,
        event;

    switch (message.type) {
    case 'devIncoming':
        event = describeNode(cnode);
        event.event = 'registration';
        emit(event);
        break;
    case 'devUpdate':
        emit({event: 'update', endpoint: cnode.clientName, changed: message.data});
        break;
    case 'devStatus':
        emit({event: 'status', endpoint: cnode.clientName, status: message.data});
        break;
    case 'devLeaving':
        emit({event: 'unregistration', endpoint: cnode});  // the library passes the name here
        break;
    case 'devNotify':
        emit({
            event: 'notification', endpoint: cnode.clientName,
            path: message.data.path, value: message.data.value
        });
        break;
    default:
        emit({event: message.type, endpoint: cnode ? cnode.clientName || cnode : null});
    }
}

function runCommand(command, done) {
    var operation = OPERATIONS[command.op],
        cnode;

    if (command.op === 'list') {
        done(null, {status: null, data: shepherd.list()});
        return;
    }
    if (!operation) {
        throw new Error('unknown op ' + JSON.stringify(command.op) + ': use list or one of ' +
            Object.keys(OPERATIONS).join(' '));
    }
    if (typeof command.endpoint !== 'string' || typeof command.path !== 'string') {
        throw new Error('command needs an "endpoint" and a "path"');
    }
    cnode = shepherd.find(command.endpoint);
    if (!cnode) {
        throw new Error('no registered device named ' + command.endpoint);
    }
    operation(cnode, command).done(function (answer) {
        done(null, answer);
    }, done);
}

function answer(reply) {
    return {status: reply.status, value: reply.data === undefined ? null : reply.data};
}

var stop = driver.stopper(function (exit) {
    if (!shepherd) {
        exit();
        return;
    }
    shepherd.stop().done(exit, exit);
});

function main() {
    driver.parseOrExit(process.argv.slice(2), FLAGS, options,
        'shepherd_server.js --db DIR [--host H] [--command-timeout-ms N]', requireDb);
    configure();
    adaptSockets();
    shepherd = require('coap-shepherd');
    shepherd._net.port = 0;  // the library reads `config.port || 5683`

    driver.reportCrashes();
    shepherd.on('error', function (error) {
        emit({event: 'error', message: 'coap-shepherd: ' + driver.describeError(error).message});
    });
    shepherd.on('ind', onIndication);

    shepherd.start().done(function () {
        shepherd.permitJoin(24 * 3600);
        emit({event: 'ready', host: options.host, port: shepherd._net.port});
        driver.serveCommands(runCommand, options.commandTimeoutMs, answer, stop);
    }, function (error) {
        emit({event: 'error', message: 'start failed: ' + driver.describeError(error).message});
        process.exit(1);
    });
}

main();
