/*
 * What the interop drivers share (nodelib_server.js for lwm2m-node-lib, shepherd_server.js for
 * coap-shepherd): the JSON-lines protocol that tests/interop/node_driver.py speaks, and the
 * adaptations both make to the node-coap copy their library uses.
 *
 * - emit(object): one event, one stdout line.
 * - describeError(error): {name, message, code} of anything thrown or passed as an error
 *   (code null where the error has none).
 * - parseOrExit(argv, flags, options, usage, check): --flag value pairs into options, by a table
 *   {'--flag': [optionName, String | Number]}; a bad line is an "error" event and exit status 2.
 * - bindSockets(coap, host, onServer): the library's CoAP servers listen on host (not every
 *   interface) and its agents bind there before their first send; onServer(server) sees each
 *   server before the library adds its own request listener.
 * - serveCommands(run, timeoutMs, answer, onClose): read one JSON command a line from stdin and
 *   call run(command, done); done(error, value) emits the "result" with the command's id
 *   (answer(value) gives its fields on success), once, or a TIMEOUT after timeoutMs;
 *   onClose runs when stdin closes.
 * - stopper(stopServer): the onClose that stops the library once (stopServer(exit)) and exits,
 *   at the latest after a second, whatever the library does.
 * - reportCrashes(): an uncaught exception becomes an "error" event instead of an exit.
 */
'use strict';

var readline = require('readline');

var STOP_GRACE_MS = 1000;

function emit(object) {
    process.stdout.write(JSON.stringify(object) + '\n');
}

function describeError(error) {
    if (error === null || error === undefined) {
        return {name: 'ERROR', message: 'unknown error', code: null};
    }
    return {
        name: error.name || 'ERROR',
        message: String(error.message || error),
        code: error.code === undefined ? null : error.code
    };
}

function parseArguments(argv, flags, options, usage) {
    for (var i = 0; i < argv.length; i += 2) {
        var flag = flags[argv[i]];
        if (!flag || i + 1 >= argv.length) {
            throw new Error('usage: ' + usage);
        }
        options[flag[0]] = flag[1](argv[i + 1]);
        if (flag[1] === Number && !isFinite(options[flag[0]])) {
            throw new Error(argv[i] + ' needs a number');
        }
    }
}

function parseOrExit(argv, flags, options, usage, check) {
    try {
        parseArguments(argv, flags, options, usage);
        if (check) {
            check(options);
        }
    } catch (error) {
        emit({event: 'error', message: error.message});
        process.exit(2);
    }
}

function bindSockets(coap, host, onServer) {
    var createServer = coap.createServer,
        Agent = coap.Agent;

    coap.createServer = function (serverOptions, listener) {
        var server = createServer(serverOptions, listener),
            listen = server.listen;

        if (onServer) {
            onServer(server);
        }
        server.listen = function (port, address, done) {
            if (typeof address === 'function') {
                done = address;
            }
            return listen.call(server, port, host, done);
        };
        return server;
    };
    coap.Agent = function (agentOptions) {
        var agent = new Agent(agentOptions);
        if (!agentOptions || !agentOptions.socket) {
            agent._sock.bind(0, host);  // sends wait for the bind (Node's dgram queues them)
        }
        return agent;
    };
}

function handleLine(line, run, timeoutMs, answer) {
    var command,
        finished = false,
        timer;

    if (line.trim() === '') {
        return;
    }
    try {
        command = JSON.parse(line);
    } catch (error) {
        emit({event: 'error', message: 'not JSON: ' + line});
        return;
    }
    if (command === null || typeof command !== 'object' || command.id === undefined) {
        emit({event: 'error', message: 'a command needs an "id": ' + line});
        return;
    }

    function done(error, value) {
        if (finished) {
            return;
        }
        finished = true;
        clearTimeout(timer);
        if (error) {
            emit({event: 'result', id: command.id, ok: false, error: describeError(error)});
        } else {
            emit(Object.assign({event: 'result', id: command.id, ok: true}, answer(value)));
        }
    }

    timer = setTimeout(function () {
        done({name: 'TIMEOUT', message: 'no answer in ' + timeoutMs + ' ms'});
    }, timeoutMs);
    try {
        run(command, done);
    } catch (error) {
        done(error);
    }
}

function serveCommands(run, timeoutMs, answer, onClose) {
    var lines = readline.createInterface({input: process.stdin, terminal: false});

    lines.on('line', function (line) {
        handleLine(line, run, timeoutMs, answer);
    });
    lines.on('close', onClose);
}

function exit() {
    process.exit(0);
}

function stopper(stopServer) {
    var stopping = false;

    return function () {
        if (stopping) {
            return;
        }
        stopping = true;
        setTimeout(exit, STOP_GRACE_MS);
        try {
            stopServer(exit);
        } catch (error) {
            emit({event: 'error', message: 'stop failed: ' + describeError(error).message});
            exit();
        }
    };
}

function reportCrashes() {
    process.on('uncaughtException', function (error) {
        emit({event: 'error', message: 'uncaught: ' + (error && error.stack || error)});
    });
}

module.exports = {
    emit: emit,
    describeError: describeError,
    parseOrExit: parseOrExit,
    bindSockets: bindSockets,
    serveCommands: serveCommands,
    stopper: stopper,
    reportCrashes: reportCrashes
};
