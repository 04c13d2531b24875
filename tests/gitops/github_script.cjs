// Runs the `script:` of an actions/github-script step the way that action does
// (as the body of an async function given require, github, context, core),
// with a stand-in for GitHub's REST client that keeps a pull request's
// comments in a JSON file.
//
//   node github_script.cjs SCRIPT_FILE STATE_FILE
//
// STATE_FILE holds {"context": {...}, "comments": [...]} and is rewritten with
// the comments afterwards plus "calls": the API calls the script made.
'use strict';
const fs = require('fs');

const [scriptFile, stateFile] = process.argv.slice(2);
const state = JSON.parse(fs.readFileSync(stateFile, 'utf8'));
const calls = [];
let nextId = 1 + Math.max(0, ...state.comments.map((c) => c.id));

const BOT = { login: 'github-actions[bot]', type: 'Bot' };
const github = {
  // Octokit's paginate follows the pages and returns the items of all of them.
  paginate: async (method, params) => (await method(params)).data,
  rest: {
    issues: {
      listComments: async (params) => {
        calls.push({ method: 'listComments', params });
        return { data: state.comments.filter((c) => c.issue_number === params.issue_number) };
      },
      createComment: async (params) => {
        calls.push({ method: 'createComment', params });
        const comment = { id: nextId++, issue_number: params.issue_number, body: params.body, user: BOT };
        state.comments.push(comment);
        return { data: comment };
      },
      updateComment: async (params) => {
        calls.push({ method: 'updateComment', params });
        const comment = state.comments.find((c) => c.id === params.comment_id);
        if (!comment) throw new Error(`no comment ${params.comment_id}`);
        if (comment.user.type !== 'Bot') throw new Error('403: cannot edit another user\'s comment');
        comment.body = params.body;
        return { data: comment };
      },
    },
  },
};
const core = {
  info: (message) => console.log(message),
  warning: (message) => console.error(`warning: ${message}`),
  setFailed: (message) => { console.error(message); process.exitCode = 1; },
};

const AsyncFunction = Object.getPrototypeOf(async () => {}).constructor;
const body = fs.readFileSync(scriptFile, 'utf8');
new AsyncFunction('require', 'github', 'context', 'core', body)(require, github, state.context, core).then(
  () => fs.writeFileSync(stateFile, JSON.stringify({ ...state, calls })),
  (error) => { console.error(error); process.exit(1); },
);
