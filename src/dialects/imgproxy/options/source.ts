/**
 * The imgproxy options that say how the source is read: `style` (CSS put into an SVG
 * source), the page(s) of a document, animation, the frame of a video
 * (https://docs.imgproxy.net/usage/processing#page and after).
 */
import { num } from '../arg-ranges.js';
import { decodeBase64Url, invalidArg, parseBool, utf8 } from '../args.js';
import { boolOption, single, type OptionSpec } from './spec.js';

/** imgproxy Pro `style`: URL-safe base64 of the CSS. */
function parseStyle(v: string): string {
  const bytes = decodeBase64Url(v);
  const text = bytes && utf8(bytes);
  if (text === undefined) throw invalidArg('style', 'URL-safe base64 of UTF-8 CSS', v);
  return text;
}

export const STYLE_OPTION: OptionSpec = { name: 'style', aliases: ['st'], apply: single('style', (o, v) => { o.style = v === '' ? '' : parseStyle(v); }) };

export const SOURCE_OPTIONS: readonly OptionSpec[] = [
  { name: 'page', aliases: ['pg'], apply: single('page', (o, v) => { o.page = num('page', v); }) },
  { name: 'pages', aliases: ['pgs'], apply: single('pages', (o, v) => { o.pages = num('pages', v); }) },
  boolOption('disable_animation', ['da'], 'disableAnimation'),
  // imgproxy Pro's video thumbnail options (https://docs.imgproxy.net/usage/processing#video-thumbnail-second).
  { name: 'video_thumbnail_second', aliases: ['vts'], apply: single('video_thumbnail_second', (o, v) => { o.video = { ...o.video, seek: { seconds: num('video_thumbnail_second', v) } }; }) },
  { name: 'video_thumbnail_keyframes', aliases: ['vtk'], apply: single('video_thumbnail_keyframes', (o, v) => { o.video = { ...o.video, keyframes: parseBool(v) }; }) },
];
