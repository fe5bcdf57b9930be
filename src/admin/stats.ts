/** Row counts for `jvai admin stats`. */
import { Call, Comment, DirectMessage, Group, GroupMessage, Post, User } from '../models/index.js';

export interface Stats {
  users: number;
  online_users: number;
  posts: number;
  comments: number;
  groups: number;
  messages: number;
  group_messages: number;
  calls: number;
}

export async function collectStats(): Promise<Stats> {
  const [users, online, posts, comments, groups, messages, groupMessages, calls] = await Promise.all([
    User.count(),
    User.count({ where: { isOnline: true } }),
    Post.count(),
    Comment.count(),
    Group.count(),
    DirectMessage.count(),
    GroupMessage.count(),
    Call.count(),
  ]);
  return { users, online_users: online, posts, comments, groups, messages, group_messages: groupMessages, calls };
}
