import type { Sequelize } from 'sequelize';
import { User } from './user.js';
import { Session } from './session.js';
import { Follow } from './follow.js';
import { Post, PostLike } from './post.js';
import { Comment, CommentLike } from './comment.js';
import { Group, GroupMember } from './group.js';
import { DirectMessage, GroupMessage } from './message.js';
import { Call } from './call.js';

export { User, Session, Follow, Post, PostLike, Comment, CommentLike, Group, GroupMember, DirectMessage, GroupMessage, Call };

/**
 * One database per process. The models are classes that Sequelize binds to one connection for
 * the whole process, so two servers in one process on two databases would write into each other's.
 * Opening a second database while one is open is therefore refused (close the first, then open
 * the other). More connections to the same database may be open at once, as several processes on
 * it would be (servers sharing one database, concurrent migrations); the models use the newest.
 */
const open: { database: string; connections: Sequelize[] } = { database: '', connections: [] };

/**
 * Binds the models to `sequelize`, a new connection to `database` (the SQLite file or the
 * PostgreSQL URL); throws if another database is open in this process. Returns the unbinding,
 * to call once the connection is closed.
 */
export function bindModels(sequelize: Sequelize, database: string): () => void {
  if (open.connections.length && open.database !== database) {
    throw new Error('another database is already open in this process: jvai serves one database per process (its models are bound process-wide); close it before opening this one');
  }
  open.database = database;
  open.connections.push(sequelize);
  initModels(sequelize);
  return () => {
    const newest = open.connections.at(-1);
    open.connections = open.connections.filter((c) => c !== sequelize);
    const next = open.connections.at(-1);
    if (newest === sequelize && next) initModels(next);
  };
}

/** Binds every model to this connection and declares the associations used by queries. */
function initModels(sequelize: Sequelize): void {
  for (const model of [User, Session, Follow, Post, PostLike, Comment, CommentLike, Group, GroupMember, DirectMessage, GroupMessage, Call]) {
    model.initModel(sequelize);
  }
  Post.belongsTo(User, { as: 'author', foreignKey: 'authorId' });
  Comment.belongsTo(User, { as: 'author', foreignKey: 'authorId' });
  Group.belongsTo(User, { as: 'creator', foreignKey: 'creatorId' });
  GroupMember.belongsTo(User, { as: 'user', foreignKey: 'userId' });
  GroupMember.belongsTo(Group, { as: 'group', foreignKey: 'groupId' });
  DirectMessage.belongsTo(User, { as: 'sender', foreignKey: 'senderId' });
  DirectMessage.belongsTo(User, { as: 'receiver', foreignKey: 'receiverId' });
  GroupMessage.belongsTo(User, { as: 'sender', foreignKey: 'senderId' });
  Session.belongsTo(User, { as: 'user', foreignKey: 'userId' });
  Follow.belongsTo(User, { as: 'follower', foreignKey: 'followerId' });
  Follow.belongsTo(User, { as: 'following', foreignKey: 'followingId' });
}
