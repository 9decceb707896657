// main — the renderer's entry: theme first (no flash), global error toasts, live data, then the app.
import { mount } from 'svelte';
import './app.css';
import App from './App.svelte';
import { theme } from './lib/theme.svelte';
import { toasts } from './lib/toasts.svelte';
import { messageOf } from './lib/errors';
import { startLive } from './lib/live';

theme.apply();

// Any failed back-end call a view did not handle itself ends up here: show its message.
window.addEventListener('unhandledrejection', (event) => {
  event.preventDefault();
  toasts.error(messageOf(event.reason));
});

startLive();

const target = document.getElementById('app');
if (!target) throw new Error('The page has no #app element.');

export default mount(App, { target });
