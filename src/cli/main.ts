// The CLI entry: engines' hot calls go through a small parser; everything else loads commander.
import { VERSION_TEXT } from './context';
import { parseFast } from './fast/parse';
import { runFast } from './fast/run';
import { out } from './output';

const call = parseFast(process.argv.slice(2));
if (call === 'version') out(VERSION_TEXT + '\n');
else if (call) void runFast(call);
else void import('./full').then(({ runFull }) => runFull(process.argv));
