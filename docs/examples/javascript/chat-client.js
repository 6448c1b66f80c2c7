// Chat with a local model through the standard `openai` npm client — the three-line change.
// Run:  LOCAL_MODEL_BASE_URL=http://localhost:8080/v1 node chat-client.js "Why is the sky blue?"
import OpenAI from 'openai';

const openai = new OpenAI({
  baseURL: process.env.LOCAL_MODEL_BASE_URL || 'http://localhost:8080/v1', // 1. the local server
  apiKey: process.env.LOCAL_API_KEY || 'dummy-key', // 2. required by the client, ignored locally
});
const MODEL = process.env.LOCAL_MODEL_NAME || 'ai/smollm2'; // 3. the local model

export async function chatCompletion(messages, options = {}) {
  return await openai.chat.completions.create({ model: MODEL, messages, ...options });
}

const prompt = process.argv.slice(2).join(' ') || 'Say hello in one sentence.';
try {
  const response = await chatCompletion([{ role: 'user', content: prompt }], { max_tokens: 100 });
  console.log(response.choices[0].message.content);
} catch (error) {
  console.error(`Local model error: ${error.message} — is the server running? Try: trayai status`);
  process.exit(1);
}
