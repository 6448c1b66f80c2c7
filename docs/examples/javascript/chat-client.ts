// The TypeScript version of chat-client.js: typed messages and options.
// Run:  npx tsc && node dist/chat-client.js "Why is the sky blue?"
import OpenAI from 'openai';
import type { ChatCompletionMessageParam } from 'openai/resources/chat/completions';

const openai = new OpenAI({
  baseURL: process.env.LOCAL_MODEL_BASE_URL || 'http://localhost:8080/v1',
  apiKey: process.env.LOCAL_API_KEY || 'dummy-key',
});
const MODEL: string = process.env.LOCAL_MODEL_NAME || 'ai/smollm2';

export async function chatCompletion(
  messages: ChatCompletionMessageParam[],
  options: { max_tokens?: number; temperature?: number } = {},
): Promise<string> {
  const response = await openai.chat.completions.create({ model: MODEL, messages, ...options });
  return response.choices[0]?.message?.content ?? '';
}

const prompt: string = process.argv.slice(2).join(' ') || 'Say hello in one sentence.';
try {
  console.log(await chatCompletion([{ role: 'user', content: prompt }], { max_tokens: 100 }));
} catch (error) {
  console.error(`Local model error: ${(error as Error).message} — is the server running? Try: trayai status`);
  process.exit(1);
}
