/*
 * A device we did not write: lwm2m-node-lib's LwM2M client, registered with the server at
 * --host/--port as --endpoint, holding the resources of --values (a JSON object
 * {"/3303/0": {"5700": value}}, where the strings "NaN", "Infinity" and "-Infinity" stand for
 * those JavaScript numbers: the library answers a Read with the value's text, "NaN" included).
 * Emits {"event": "registered", "location": ...} on stdout once registered (or an "error"
 * event and exit status 1) and stays registered until stdin closes.
 */
'use strict';

var client = require('lwm2m-node-lib').client;
var driver = require('./line_driver');

var options = {host: '127.0.0.1', port: 5683, endpoint: 'nodelib-device', values: '{}'};
driver.parseOrExit(process.argv.slice(2), {
    '--host': ['host', String],
    '--port': ['port', Number],
    '--endpoint': ['endpoint', String],
    '--values': ['values', String]
}, options, 'nodelib_client.js --host H --port P --endpoint EP --values JSON');

var NUMBERS = {'NaN': NaN, 'Infinity': Infinity, '-Infinity': -Infinity};

function create(objects, done) {
    var uris = Object.keys(objects);
    if (uris.length === 0) {
        done();
        return;
    }
    var uri = uris[0], rest = Object.assign({}, objects);
    delete rest[uri];
    client.registry.create(uri, function(error) {
        if (error) {
            done(error);
            return;
        }
        var ids = Object.keys(objects[uri]);
        (function next(index) {
            if (index === ids.length) {
                create(rest, done);
                return;
            }
            var raw = objects[uri][ids[index]];
            var value = Object.prototype.hasOwnProperty.call(NUMBERS, raw) ? NUMBERS[raw] : raw;
            client.registry.setResource(uri, ids[index], value, function(failed) {
                if (failed) {
                    done(failed);
                } else {
                    next(index + 1);
                }
            });
        })(0);
    });
}

driver.reportCrashes();
client.init({
    client: {lifetime: 300, version: '1.0', logLevel: 'FATAL', ipProtocol: 'udp4', port: 0},
    logLevel: 'FATAL'
});
create(JSON.parse(options.values), function(error) {
    if (error) {
        driver.emit({event: 'error', error: driver.describeError(error)});
        process.exit(1);
    }
    client.register(options.host, options.port, '', options.endpoint, function(failed, info) {
        if (failed) {
            driver.emit({event: 'error', error: driver.describeError(failed)});
            process.exit(1);
        }
        driver.emit({event: 'registered', location: info.location, port: info.localPort});
    });
});
process.stdin.on('data', function() {});
process.stdin.on('end', function() {
    process.exit(0);
});
